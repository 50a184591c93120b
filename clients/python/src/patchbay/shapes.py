"""Narrowing of parsed JSON, whose shape the server promises but a hostile answer may break."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, cast


def as_object(value: Any) -> Dict[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return cast(Dict[str, Any], value) if isinstance(value, dict) else {}


def as_list(value: Any) -> List[Any]:
    """The value if it is a JSON array, else an empty one."""
    return cast(List[Any], value) if isinstance(value, list) else []


def as_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None
