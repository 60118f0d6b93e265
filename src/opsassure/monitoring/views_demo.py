"""Demo targets served by the app itself, so a fresh ``make run`` has something that fails.

``flappy`` is up for three minutes, then down for three (deterministic from the clock, so
every probe sees the same); ``slow`` answers after 1.2 s (a check with a 1 s threshold reads
it as degraded). They answer only once the demo data is loaded (the ``.demo-loaded`` marker in
the data directory), so a production install does not expose them.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from opsassure.monitoring.demo import flappy_up

SLOW_SECONDS = 1.2
DEMO_MARKER = ".demo-loaded"


def demo_targets_enabled() -> bool:
    return (Path(settings.DATA_DIR) / DEMO_MARKER).exists()


def demo_target(request: HttpRequest, name: str) -> HttpResponse:
    if not demo_targets_enabled() or name not in {"flappy", "slow"}:
        raise Http404
    if name == "slow":
        time.sleep(SLOW_SECONDS)
        return JsonResponse({"status": "ok", "slow": True})
    if flappy_up():
        return JsonResponse({"status": "ok"})
    return JsonResponse({"status": "down"}, status=503)
