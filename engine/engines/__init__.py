"""The engines behind one contract, and the one place that chooses between them.

``base.py``: the Engine base class (one ``run`` for every engine) and the steps both share;
``instant.py``: the built-in offline engine; ``facelift.py``: multi-view diffusion -> GS-LRM. ``make_engine(config)`` builds
the engine an engine.settings.EngineConfig asks for; the CLI, the window's worker and batch runs
all get their engines from it. Nothing here imports torch: models load on first use.
"""

from __future__ import annotations

from engine.engines.base import Engine
from engine.engines.facelift import FaceLiftEngine
from engine.engines.instant import InstantEngine
from engine.settings import EngineConfig


def make_engine(config: EngineConfig) -> Engine:
    """The engine for ``config``.

    engine "instant": the instant engine. "facelift": FaceLift with the weights folder found
    from ``config.weights_dir`` (engine.weights.find_weights; NoWeights when there is none).
    None: FaceLift when its weights are found, else the instant engine, whose ``describe()``
    says that none were found. An explicit ``weights_dir`` that is not a folder raises
    WeightsError. Nothing loads here: models load on the engine's first ``load``/``run``.
    """
    from engine.weights import find_weights, missing_weights

    if config.engine == "instant":
        return InstantEngine()
    found = find_weights(config.weights_dir)
    if found is None:
        if config.engine == "facelift":
            raise missing_weights(config.weights_dir)
        return InstantEngine(reason=str(missing_weights(config.weights_dir)))
    return FaceLiftEngine(found, device=config.device, memory_preset=config.memory_preset)


__all__ = ["Engine", "FaceLiftEngine", "InstantEngine", "make_engine"]
