"""The suite runs in the dev environment; a test that needs another sets it on the settings it builds."""

import os

os.environ["SEVA_ENV"] = "dev"
