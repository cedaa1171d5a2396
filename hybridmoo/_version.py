"""The installed version of hybridmoo, importable without importing the package's heavy parts."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hybridmoo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
