"""Lifecycle diagrams drawn from a definition: Mermaid state diagrams and Graphviz dot."""

from __future__ import annotations

from workflow.definition import Definition

__all__ = ["edges", "to_dot", "to_mermaid"]


def edges(defn: Definition, internal: bool = False) -> list[tuple[str, str, str]]:
    """(source, dest, trigger) once each; *internal* adds the triggers that keep the state."""
    edges: list[tuple[str, str, str]] = []
    for t in defn.transitions:
        for source in t.sources:
            for dest in dict.fromkeys(t.dests()):
                target = source if dest is None else dest
                if (internal or target != source) and (source, target, t.trigger) not in edges:
                    edges.append((source, target, t.trigger))
    return edges


def to_mermaid(defn: Definition, internal: bool = False) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {defn.initial}"]
    lines += [f"    {s.name}: {s.label}" for s in defn.states.values()]
    lines += [f"    {a} --> {b}: {trigger}" for a, b, trigger in edges(defn, internal)]
    lines += [f"    {s.name} --> [*]" for s in defn.states.values() if s.final]
    return "\n".join(lines) + "\n"


def to_dot(defn: Definition, internal: bool = False) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"digraph {defn.kind} {{",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Noto Sans CJK SC"];',
        "    __start [shape=point];",
        f"    __start -> {defn.initial};",
    ]
    for s in defn.states.values():
        shape = ", peripheries=2" if s.final else ""
        lines.append(f"    {s.name} [label={q(s.label)}{shape}];")
    lines += [f"    {a} -> {b} [label={q(trigger)}];" for a, b, trigger in edges(defn, internal)]
    return "\n".join([*lines, "}"]) + "\n"
