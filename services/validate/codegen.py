"""Python source built from a layout's data and compiled once per process.

The engine runs a layout's checks for every field of every record; a loop over the fields, and a
function call for each check, cost more than the checks themselves (a SENR record: 7.7 us
through the loop, 6.3 us straight-line). So the engine and the field checks are written out as
straight-line code from the catalog's data.

Only code this project writes goes into the source: identifiers it makes, integer positions and
expressions from ``services.validate.rules``. Every value from the catalog (names, codes, sets,
messages) reaches the code as an object in its namespace (``Source.ref``), never as text.
"""

from __future__ import annotations

from typing import Any


class Source:
    """Lines of a function being generated and the objects they read, by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, object] = {}

    def ref(self, value: object, hint: str = "k") -> str:
        """The name the generated code reads ``value`` by (a new name for each object)."""
        for name, known in self.names.items():
            if known is value:
                return name
        name = f"{hint}_{len(self.names)}"
        self.names[name] = value
        return name

    def add(self, depth: int, line: str) -> None:
        """A line of the function's body, ``depth`` levels in (the body itself is depth 1)."""
        self.lines.append("    " * depth + line)

    def function(self, name: str, params: str) -> Any:
        """The function ``name(params)`` with the lines added so far as its body."""
        text = "\n".join([f"def {name}({params}):", *self.lines, "    return None"])
        namespace = dict(self.names)
        exec(compile(text, f"<edcs generated {name}>", "exec"), namespace)  # noqa: S102
        return namespace[name]
