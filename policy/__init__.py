"""The SecureCart DR policy pack: `policy/__main__.py` for the Pulumi CLI, `policy.offline` here."""
