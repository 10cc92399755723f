#!/bin/bash
set -eu
cat > /app/bin/greet <<'SH'
#!/bin/sh
if [ "${GREETING_STYLE:-}" = formal ]; then echo "Good day, $1."; else echo "Hi, $1!"; fi
SH
chmod +x /app/bin/greet
