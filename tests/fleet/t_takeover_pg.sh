#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# t_takeover.sh on PostgreSQL: one tunnel per user across the fleet, the
# gateways told of each move by LISTEN/NOTIFY.
TAKEOVER_DB=pg exec bash "$(dirname "${BASH_SOURCE[0]}")/t_takeover.sh"
