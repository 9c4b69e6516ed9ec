"""Cross-references of the API reference that point where a reader means them (``sphinx -n``).

Three things a signature or a docstring names cannot be found by Sphinx on its own:

- Names imported only for type checking (``if TYPE_CHECKING:``) leave an annotation as a string
  that autodoc cannot evaluate, and then every annotation of that signature stays a string.
  Before autodoc runs, each missionlab module's type-checking imports are executed into the
  module's namespace (the docs build only; the package is unchanged), as
  sphinx-autodoc-typehints does, so annotations evaluate to the objects they name.
- An object is named by where it is defined (``missionlab.client._call.RequestOptions``,
  ``pandas.core.frame.DataFrame``) but documented under its public name
  (``missionlab.client.RequestOptions``, ``pandas.DataFrame``). A reference that finds nothing
  under its name is resolved to the documented name of the same object: among this site's own
  entries, or among the entries of the intersphinx inventory of the object's package.
- A type variable (``T``) has no page: it is shown as plain text.

A class the library makes for you (a page, a resource: ``made_by_the_library`` in conf.py) and a
pydantic model (documented by its fields) are shown without their constructor's arguments; a
widget, whose ``__new__`` is traitlets', is shown with its own ``__init__``'s.
A private base class (``_BasePage``) is replaced in "Bases:" by its own bases; its public
members are documented on the subclass (``:inherited-members:``).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator
from types import FunctionType, ModuleType
from typing import Any, TypeVar

from docutils import nodes  # type: ignore[import-untyped]
from sphinx.ext import intersphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "missionlab"


def modules(package: str = PACKAGE) -> Iterator[ModuleType]:
    """Every module of ``package``, imported."""
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        yield importlib.import_module(info.name)


def type_checking_imports(module: ModuleType) -> list[ast.stmt]:
    """The import statements under ``if TYPE_CHECKING:`` in ``module``'s source."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return []
    found: list[ast.stmt] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            found += [stmt for stmt in node.body if isinstance(stmt, ast.Import | ast.ImportFrom)]
    return found


def resolve_type_checking_imports(app: Any) -> None:
    """Run each module's type-checking imports in its namespace, adding only missing names."""
    for module in modules():
        for stmt in type_checking_imports(module):
            namespace: dict[str, Any] = {}
            code = compile(ast.Module(body=[stmt], type_ignores=[]), module.__name__, "exec")
            exec(code, {"__name__": module.__name__, "__package__": module.__package__}, namespace)
            for name, value in namespace.items():
                module.__dict__.setdefault(name, value)


def lookup(dotted: str) -> Any:
    """The object ``dotted`` names (longest importable module, then attributes), or None."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        except Exception:  # a module that fails on import names nothing we can link
            return None
        try:
            for attribute in parts[split:]:
                value = getattr(value, attribute)
        except AttributeError:
            return None
        return value
    return None


def identifiable(value: Any) -> bool:
    """Objects that identity tells apart: classes, functions, modules (not ints or strings)."""
    return isinstance(value, type | FunctionType | ModuleType | property) or inspect.isroutine(value)


class Documented:
    """This site's Python entries and those of the intersphinx inventories, by object identity."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._local: dict[int, tuple[str, str]] | None = None
        self._external: dict[str, dict[int, str]] = {}

    def local(self, value: Any) -> tuple[str, str] | None:
        """(objtype, name) of this site's entry for ``value``."""
        if self._local is None:
            self._local = {}
            domain = self.app.env.domains["py"]
            for name, entry in domain.objects.items():
                if entry.aliased:
                    continue
                obj = lookup(name)
                if obj is not None and identifiable(obj):
                    self._local.setdefault(id(obj), (entry.objtype, name))
        return self._local.get(id(value))

    def external(self, value: Any, package: str) -> str | None:
        """The name ``value`` has in an intersphinx inventory, among ``package``'s entries."""
        if package not in self._external:
            found: dict[int, str] = {}
            inventory = intersphinx.InventoryAdapter(self.app.env).main_inventory
            for role, entries in inventory.items():
                if not role.startswith("py:"):
                    continue
                for name in entries:
                    if name.split(".")[0] == package:
                        obj = lookup(name)
                        if obj is not None and identifiable(obj):
                            found.setdefault(id(obj), name)
            self._external[package] = found
        return self._external[package].get(id(value))


def documents(app: Any) -> Documented:
    """The build's :class:`Documented` (made once, when the first reference needs it)."""
    found: Documented | None = getattr(app, "_reference_targets", None)
    if found is None:
        found = app._reference_targets = Documented(app)
    return found


def in_context(node: Any, target: str) -> Any:
    """What ``target`` names where it is written: in the documented module's namespace (its
    imports included), or its class's (``RunTrace.find`` in a module that imports ``RunTrace``)."""
    module = node.get("py:module")
    if not module:
        return None
    name = target.lstrip(".~")
    scopes = [f"{module}.{node['py:class']}"] if node.get("py:class") else []
    for scope in [*scopes, module]:
        value = lookup(f"{scope}.{name}")
        if value is not None:
            return value
    return None


def resolve_by_identity(app: Any, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    value = in_context(node, target)  # first as the module that writes it sees it
    if value is None:
        value = lookup(target)
    if value is None:
        return None
    if isinstance(value, TypeVar):
        return contnode
    if not identifiable(value):
        return None
    documented = documents(app)
    package = (getattr(value, "__module__", None) or target).split(".")[0]
    if package == PACKAGE or (getattr(value, "__module__", None) or "").split(".")[0] == PACKAGE:
        entry = documented.local(value)
        if entry is None or entry[1] == target:
            return None
        domain = env.domains["py"]
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], entry[1], node, contnode
        )
    name = documented.external(value, package)
    if name is None or name == target:
        return None
    renamed = node.deepcopy()
    renamed["reftarget"] = name
    return intersphinx.missing_reference(app, env, renamed, contnode)


def private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


def private_class(base: Any) -> type | None:
    """``base`` (or the class a generic alias such as ``_BasePage[T]`` stands for), if private."""
    cls = typing.get_origin(base) or base
    if isinstance(cls, type) and (private(cls.__qualname__) or private(cls.__module__)):
        return cls
    return None


def public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Replace each private base by its own bases (its public members are on the subclass)."""
    replaced: list[Any] = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        cls = private_class(base)
        if cls is None:
            if base not in replaced:
                replaced.append(base)
            continue
        pending[:0] = [b for b in getattr(cls, "__orig_bases__", cls.__bases__) if b is not object]
    bases[:] = replaced or [object]


def defining_class(cls: type, attribute: str) -> type | None:
    """The class of ``cls``'s MRO that defines ``attribute`` (None for ``object``'s)."""
    for klass in cls.__mro__:
        if attribute in vars(klass):
            return None if klass is object else klass
    return None


def ours(cls: type | None) -> bool:
    return cls is not None and cls.__module__.split(".")[0] == PACKAGE


def class_signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str] | None:
    """The signature a class is shown with, where autodoc's choice misleads.

    - A class the library makes for you (``made_by_the_library``), and a pydantic model (documented
      by its fields), are shown without the constructor's arguments.
    - A class whose ``__init__`` is ours but whose ``__new__`` comes from another library (every
      widget: traitlets' ``__new__(*args, **kwargs)``) is shown with its ``__init__``'s arguments.
    """
    if what != "class" or not isinstance(obj, type):
        return None
    if name in app.config.made_by_the_library or _is_pydantic_model(obj):
        return "", ""
    if dataclasses.is_dataclass(obj) and ours(obj):
        return dataclass_signature(obj), ""
    new, init = defining_class(obj, "__new__"), defining_class(obj, "__init__")
    if new is not None and not ours(new) and ours(init):
        from sphinx.util.inspect import signature as inspect_signature
        from sphinx.util.inspect import stringify_signature

        init = vars(init)["__init__"]
        sig = inspect_signature(init, bound_method=True, type_aliases=app.config.autodoc_type_aliases)
        return stringify_signature(sig, show_return_annotation=False, unqualified_typehints=True), ""
    return None


FACTORY_RESULTS = {dict: "{}", list: "[]", tuple: "()", set: "set()", frozenset: "frozenset()"}


def dataclass_signature(cls: type) -> str:
    """A dataclass's signature, its annotations evaluated in its module and each default made by
    a factory shown as what the factory makes (``{}``, ``[]``), not as ``<factory>``, which
    Sphinx cannot parse (the whole signature then loses its links)."""
    from sphinx.util.inspect import stringify_signature

    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    parameters = []
    for parameter in inspect.signature(cls).parameters.values():
        field = fields.get(parameter.name)
        if field is not None and field.default_factory is not dataclasses.MISSING:
            shown = FACTORY_RESULTS.get(field.default_factory, "...")  # type: ignore[call-overload]
            parameter = parameter.replace(default=_Shown(shown))
        parameters.append(parameter.replace(annotation=hints.get(parameter.name, parameter.annotation)))
    signature = inspect.Signature(parameters, return_annotation=inspect.Signature.empty)
    return stringify_signature(signature, show_return_annotation=False, unqualified_typehints=True)


class _Shown:
    """A default shown as the text given (its repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _is_pydantic_model(obj: type) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:
        return False
    return issubclass(obj, BaseModel)


def setup(app: Any) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.intersphinx")
    app.add_config_value("made_by_the_library", frozenset(), "env")
    app.connect("builder-inited", resolve_type_checking_imports)
    # before intersphinx's own handler (priority 500): private paths first become public names
    app.connect("missing-reference", resolve_by_identity, priority=400)
    app.connect("autodoc-process-bases", public_bases)
    app.connect("autodoc-process-signature", class_signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
