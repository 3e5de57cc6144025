"""Configuration problems and the single error that carries all of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration file, and where it is.

    Formats as ``FILE:LINE: [section] key: message`` -- the compiler
    convention, so editors and terminals can jump to the line.
    """

    filename: str
    line: int | None
    section: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = self.filename if self.line is None else f"{self.filename}:{self.line}"
        parts = [f"{where}:"]
        if self.section:
            parts.append(f"[{self.section}]")
        parts.append(f"{self.key}: {self.message}" if self.key else self.message)
        return " ".join(parts)


class ConfigError(Exception):
    """A configuration could not be loaded; ``problems`` lists every reason.

    All problems are collected before raising so a user fixes a file in one
    round trip instead of one error per restart.
    """

    #: Exit status for command-line tools (EX_CONFIG from sysexits.h).
    exit_code = 78

    def __init__(self, issues: list[Problem]) -> None:
        # Sorted by line: the order a reader walks the file.
        self.issues: tuple[Problem, ...] = tuple(sorted(issues, key=lambda p: p.line or 0))
        self.problems: list[str] = [str(p) for p in self.issues]
        super().__init__("\n".join(self.problems))
