"""The one way into the harness, for `python -m chaos` and the `securecart-dr` console script.

Why a separate module: the exit-code contract (0 met, 1 a target missed, 2 the tool or its input
failed) must hold even when Python cannot load the harness at all. Run outside the project's venv,
the first `import boto3` would raise a traceback and exit 1, which CI would read as "a target was
missed". So this module imports nothing but the standard library, checks that the pinned
dependencies are importable, and turns a missing one into one line and exit 2.

Keep this file free of syntax newer than Python 3.6, so that even an old `python3` reaches the
version check below instead of failing with a SyntaxError.
"""
import importlib.util
import sys

EXIT_TOOL_ERROR = 2
SUPPORTED = ((3, 11), (3, 12), (3, 13))

# Import name -> requirement name, for every third-party package the harness imports at start.
# (requirements.txt pins them; .ci/setup installs them into .venv.)
REQUIRED = (
    ("boto3", "boto3"),
    ("botocore", "botocore"),
    ("moto", "moto[server]"),
    ("werkzeug", "Werkzeug"),
    ("psycopg", "psycopg[binary]"),
    ("jsonschema", "jsonschema"),
    ("tenacity", "tenacity"),
    ("rich", "rich"),
    ("matplotlib", "matplotlib"),
    ("pulumi", "pulumi"),
    ("pulumi_aws", "pulumi-aws"),
)

FIX = "run `bash .ci/setup`, then use `.venv/bin/python -m chaos` or `.venv/bin/securecart-dr`"


def missing_dependency():
    """The requirement name of the first pinned dependency Python cannot find, or None."""
    for module, requirement in REQUIRED:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return requirement
    return None


def preflight():
    """One line naming what is wrong with this interpreter, or None when the harness can load."""
    version = sys.version_info[:2]
    if version not in SUPPORTED:
        return "Python {}.{} is not supported (3.11 to 3.13 are); {}".format(
            version[0], version[1], FIX)
    requirement = missing_dependency()
    if requirement is not None:
        return "dependency {!r} is not installed in {} (not the project's venv?); {}".format(
            requirement, sys.executable, FIX)
    return None


def main(argv=None):
    problem = preflight()
    if problem is not None:
        sys.stderr.write("error: " + problem + "\n")
        return EXIT_TOOL_ERROR
    from chaos.cli import main as cli_main  # only now: it pulls in the dependencies checked above

    return cli_main(argv)
