"""Operating Passerelle (issue 15): health probes, Prometheus metrics, structured logs, the
background worker (mail and pruning) and the audit export."""
