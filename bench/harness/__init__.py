"""What the benches share with each other and with tests/ops: scratch databases and apps
(`scratch`), loopback ports and child processes (`processes`), one-connection HTTP calls (`http`)."""
