"""A definition compiled to one shared, model-less `transitions` machine per version.

Every item of a version is fired on the same machine, statelessly: the machine moves the state
of whatever context it is handed (``machine.events[trigger].trigger(ctx)``), runs the guards as the
first candidate's prepare step, picks a branch by its condition, and runs the actions after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import Machine

from workflow.definition import Branch, Definition
from workflow.registry import Context, Registry

__all__ = ["compile_machine"]


def compile_machine(defn: Definition, registry: Registry) -> Machine:
    """One shared, model-less machine for *defn*; fire it with ``machine.events[t].trigger(ctx)``."""
    machine = Machine(
        model=None,
        states=list(defn.states),
        initial=defn.initial,
        send_event=True,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    for t in defn.transitions:
        guards: list[Any] = [_on_ctx(registry.guards[g]) for g in t.guards]
        actions = [registry.actions[a] for a in t.actions]
        candidates = [
            (b.dest, _branch_condition(b, registry), actions + [registry.actions[a] for a in b.actions])
            for b in t.branches
        ] + [(t.dest, None, actions)]
        for source in t.sources:
            for k, (dest, condition, acts) in enumerate(candidates):
                # Guards run once, as the prepare step of the first candidate tried.
                machine.add_transition(
                    t.trigger,
                    source,
                    dest,
                    prepare=guards if k == 0 else None,
                    conditions=condition,
                    after=[_on_ctx(a) for a in acts],
                )
    return machine


def _on_ctx(fn: Callable[[Context], Any]) -> Callable[[Any], Any]:
    return lambda event: fn(event.model)


def _branch_condition(branch: Branch, registry: Registry) -> Callable[[Any], bool]:
    if branch.condition is not None:
        return _on_ctx(registry.conditions[branch.condition])
    when = branch.when
    return lambda event: all(event.model.data.get(k) in v for k, v in when.items())
