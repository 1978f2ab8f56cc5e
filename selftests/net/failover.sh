#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# failover.sh - failure detection and failover end to end: the demo's
# scenario (scripts/demo.sh) with 1,000 long-lived TCP connections over
# four backends plus UDP streams, checked: a backend killed by SIGKILL, by
# link down and by a black hole is detected within interval x multiplier
# + margin; flows and connections on survivors see no loss and no break;
# the notify hook ran with the event in its environment; the standby of an
# active-standby pair takes over, and the returning active preempts.
exec bash "$(dirname "$0")/../../scripts/demo.sh" --check --conns 1000
