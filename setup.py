"""Only the package map: templates/ and migrations/ sit at the top of the repository
and ship inside the installed package as directory/_templates and directory/_migrations, where
create_app finds them. Everything else about the project is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

MAPPED = {"directory._templates": "templates", "directory._migrations": "migrations"}

packages = find_namespace_packages(include=["directory", "directory.*"], exclude=["*.__pycache__"])
package_dir = {"directory": "directory"}
for name, folder in MAPPED.items():
    packages.append(name)
    package_dir[name] = folder
    for sub in find_namespace_packages(where=folder, exclude=["__pycache__", "*.__pycache__"]):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
