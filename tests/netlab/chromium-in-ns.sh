#!/usr/bin/env bash
# Playwright's "browser executable" for the lab: Debian's chromium, started
# inside the client namespace named by $LAB_NS. exec keeps Playwright's pipe
# (fds 3 and 4) connected to the browser.
exec ip netns exec "${LAB_NS:?LAB_NS names the client namespace}" /usr/bin/chromium "$@"
