"""The simulator's figures as plain text: one line per checkpoint, then the checks."""

from __future__ import annotations

from typing import Any

__all__ = ["duration", "format_table"]


def duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.2f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def format_table(result: dict[str, Any]) -> str:
    """The figures as plain text: one line per checkpoint, then the checks."""
    settings = result["settings"]
    lines = [
        f"mode {settings['mode']}, {settings['workers']} fetches in flight, "
        f"{result['web']['hosts']:,} hosts, seed {result['web']['seed']}, "
        f"frontier {result['frontier']}; µs are medians of window medians; "
        f"ref ms: a fixed workload timed at each checkpoint (higher: a busier machine)",
        "",
        f"{'admitted':>11} {'wall s':>7} {'CPU s':>7} {'simulated':>10} {'pages':>9} {'hosts':>9} "
        f"{'queued':>10} {'take µs':>8} {'obs µs':>7} {'robots µs':>9} {'parse µs':>8} "
        f"{'links':>6} {'ref ms':>6} "
        f"{'RSS MB':>7} {'B/adm':>6} {'pages/day':>11} {'calls/pg':>8}",
    ]
    for row in result["rows"]:
        sim, cost = row["sim"], row["cost"]
        lines.append(
            f"{row['admitted']:>11,} {cost['step_wall_s']:>7.1f} {cost['step_cpu_s']:>7.1f} "
            f"{duration(sim['seconds']):>10} "
            f"{sim['pages']:>9,} {sim['hosts_known']:>9,} {sim['queued']:>10,} "
            f"{_us(cost['fetch_decision']):>8} {_us(cost['observe_page']):>7} "
            f"{_us(cost['observe_robots']):>9} {_us(cost.get('prepare', {})):>8} "
            f"{sim['links_per_parsed_page']:>6.1f} {cost['reference_ms']:>6.1f} "
            f"{cost['rss_mb']:>7.0f} {_number(cost['span_rss_bytes_per_admitted']):>6} "
            f"{_number(sim['span_pages_per_sim_day']):>11} "
            f"{row.get('frontier_calls_per_page', '-'):>8}"
        )
    politeness = result["politeness"]
    broken = sum(politeness["violations"].values())
    lines += [
        "",
        f"end: {result['end']} after {result['crawl_wall_s']} s",
        f"politeness: {broken} violations {politeness['violations']} over "
        f"{politeness['hosts_fetched']:,} hosts fetched; tightest gap "
        f"{politeness['tightest_gap_over_interval']} x the interval, "
        f"{politeness['starts_at_the_limit']:,} starts at the limit",
    ]
    for host in politeness["busiest_hosts"][:3]:
        lines.append(
            f"  busiest: {host['host']} {host['fetches']:,} fetches at "
            f"{host['requests_per_s']} req/s (limit {host['limit_per_s']})"
        )
    ledger = result["ledger"]
    lines.append(
        f"ledger: admitted {ledger['admitted']:,} = ended {ledger['ended']:,} + queued "
        f"{ledger['queued']:,} + in flight {ledger['in_flight']:,} (off by {ledger['balance']})"
        + (
            f"; exact: {ledger['not_ended']} not ended, "
            f"{ledger['ended_twice_or_unknown']} ended twice or unknown"
            if ledger["exact"]
            else ""
        )
    )
    probe = result.get("memory_probe")
    if probe is not None:
        lines.append(
            f"memory probe ({probe['method']}; URLs of {probe['mean_url_length']} chars): "
            f"{probe['bytes_per_queued_url']} B per queued URL, "
            f"{probe['bytes_per_fetched_url']} B per fetched URL, "
            f"{probe['bytes_per_host_robots_decided']} B per host (robots.txt decided)"
        )
    lines.append(f"digest {result['digest']}")
    return "\n".join(lines)


def _us(span: dict[str, Any]) -> str:
    return f"{span['median_us']:.1f}" if span.get("calls") else "-"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
