"""Code that runs inside AWS Lambda functions the program declares (packaged from these files)."""
