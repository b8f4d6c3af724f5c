"""Compile the translation catalogs (.po → .mo) whenever the package is built or installed.

Everything else lives in pyproject.toml. Without a compiled catalog the bot still works: it compiles
the .po in memory at start (conversations.i18n), so a plain checkout never shows English by mistake.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        from babel.messages.frontend import CommandLineInterface

        locales = Path(__file__).resolve().parent / "locales"
        if any(locales.glob("*/LC_MESSAGES/messages.po")):
            CommandLineInterface().run(["pybabel", "-q", "compile", "-D", "messages cli", "-d", str(locales)])
        super().run()


setup(cmdclass={"build_py": BuildPyWithCatalogs})
