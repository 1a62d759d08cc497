"""Every Python package folder is listed in pyproject.toml, so a non-editable install has all of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping = config["package-dir"]
    listed = set(config["packages"])
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *relative.parts]) if relative.parts else name)
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    data_only = set()
    for name in listed - found:  # data folders are listed too (so setuptools ships them without warnings)
        top = next(n for n in mapping if name.startswith(n + "."))
        folder = ROOT / mapping[top] / Path(*name[len(top) + 1:].split("."))
        if folder.is_dir() and not any(folder.glob("*.py")) and any(folder.iterdir()):
            data_only.add(name)
    assert listed - found - data_only == set(), "these are listed but have no __init__.py"


def test_public_api_names_resolve() -> None:
    """Every name the packages advertise in __all__ can be imported (they are loaded lazily)."""
    import perseus.issuer
    import perseus.verifier

    for package in (perseus.verifier, perseus.issuer):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
