"""`GET /metrics`: the API's counters in Prometheus' text format (version 0.0.4).

Kept in process (one server process), written out by hand: four metric families do not need a
client library.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict

# Seconds; the target is p99 < 50 ms, so the buckets are finest below it.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()  # (route, status)
        self.bytes: Counter[str] = Counter()  # route -> request body bytes
        self.payloads: Counter[tuple[str, str]] = Counter()  # (kind, accepted|rejected)
        self.latency: dict[str, list[int]] = {}  # route -> count per bucket (+Inf last)
        self.latency_sum: defaultdict[str, float] = defaultdict(float)

    def observe(self, route: str, status: int, seconds: float, body_bytes: int) -> None:
        self.requests[route, status] += 1
        self.bytes[route] += body_bytes
        buckets = self.latency.setdefault(route, [0] * (len(LATENCY_BUCKETS) + 1))
        buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def count_payloads(self, kind: str, accepted: int, rejected: int) -> None:
        self.payloads[kind, "accepted"] += accepted
        self.payloads[kind, "rejected"] += rejected

    def render(self) -> str:
        out = [
            "# HELP scout_ingest_requests_total HTTP requests answered, by route and status.",
            "# TYPE scout_ingest_requests_total counter",
            *(f'scout_ingest_requests_total{{route="{route}",status="{status}"}} {n}'
              for (route, status), n in sorted(self.requests.items())),
            "# HELP scout_ingest_request_bytes_total Request body bytes received, by route.",
            "# TYPE scout_ingest_request_bytes_total counter",
            *(f'scout_ingest_request_bytes_total{{route="{route}"}} {n}'
              for route, n in sorted(self.bytes.items())),
            "# HELP scout_ingest_payloads_total Payloads accepted (landed) or rejected.",
            "# TYPE scout_ingest_payloads_total counter",
            *(f'scout_ingest_payloads_total{{kind="{kind}",outcome="{outcome}"}} {n}'
              for (kind, outcome), n in sorted(self.payloads.items())),
            "# HELP scout_ingest_request_seconds Time from request to answer, by route.",
            "# TYPE scout_ingest_request_seconds histogram",
        ]  # fmt: skip
        for route, buckets in sorted(self.latency.items()):
            running = 0
            for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), buckets):
                running += count
                out.append(
                    f'scout_ingest_request_seconds_bucket{{route="{route}",le="{bound}"}} {running}'
                )
            out.append(
                f'scout_ingest_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}'
            )
            out.append(f'scout_ingest_request_seconds_count{{route="{route}"}} {running}')
        return "\n".join(out) + "\n"
