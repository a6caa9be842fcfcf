"""REST API of the allocation app, one module per area: rounds (hardware, calls, rounds, runs),
capacity (pledges, offers), compute_requests (requests, reviews) and published (open data)."""
