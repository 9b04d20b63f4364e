/** Help texts of the `nessus-mcp` CLI, one per command, printed by `--help`. */

const CONNECTION = `Connection (every command):
  --url URL        MCP endpoint (default: $NESSUS_MCP_URL, else http://127.0.0.1:8835/mcp)
  The bearer token is read from $AUTH_TOKEN only: a token given as an argument would be
  saved in your shell history and visible to other users in \`ps\`.`;

const EXIT_CODES = `Exit codes: 0 success, 1 error (the gateway refused, the scan did not complete, ...),
2 usage error, 130 interrupted (Ctrl-C).`;

export const GENERAL_HELP = `nessus-mcp — run and read Nessus scans through the nessus-mcp gateway

Usage:
  nessus-mcp scan <targets...> --name NAME [options]   submit a scan (optionally wait)
  nessus-mcp status <task_id> [--wait]                 show a task's status
  nessus-mcp results <task_id> [--page N | --all]      show findings with a severity table
  nessus-mcp tasks [--status S] [--limit N]            list recent tasks
  nessus-mcp cancel <task_id>                          stop a queued or running scan

Run \`nessus-mcp <command> --help\` for a command's options. Add --json to any command for
machine-readable output on stdout (errors too, as {"error":{"code","message"}}).

${CONNECTION}

${EXIT_CODES}`;

export const SCAN_HELP = `Usage: nessus-mcp scan <targets...> --name NAME [options]

Submits a scan of the targets (addresses, CIDRs, ranges or host names; several arguments or a
comma-separated list) and prints the task id. With --wait, shows progress on stderr and then the
final status; the exit code is 0 only when the scan completed.

Options:
  --name NAME                    scan name (required)
  --type TYPE                    untrusted | trusted | privileged (default: untrusted, or trusted
                                 when --ssh-user is given, privileged when --elevate is given)
  --description TEXT
  --profile NAME                 default results profile: minimal | summary | brief | full
  --pool NAME, --instance ID     choose the scanner pool / instance
  --idempotency-key KEY          repeating a key returns the original task (48 h)

SSH credentials (trusted and privileged scans):
  --ssh-user USER                SSH login
  --ssh-password-env VAR         read the SSH password from environment variable VAR
  --ssh-key-file FILE            authenticate with this private key file instead
  --ssh-key-passphrase-env VAR   passphrase of the key, from environment variable VAR
  --ssh-port PORT
  --elevate METHOD               privileged: sudo | su | su+sudo | pbrun | dzdo
  --escalation-account USER      account to elevate to (default root)
  --escalation-password-env VAR  escalation password, from environment variable VAR
  --su-login USER                su+sudo (required there): the account su switches to before sudo
Passwords are never accepted as option values: anything typed on a command line is kept in
shell history and shown to every user by \`ps\`. Name an environment variable instead, or leave
both --ssh-password-env and --ssh-key-file out to be prompted (hidden input) on a terminal.

Waiting:
  --wait                         wait for the scan to end, with a progress bar on stderr
  --interval SECONDS             first delay between status polls (default 2; backs off to 15)
  --timeout SECONDS              stop waiting after this long (exit 1; the scan keeps running)
  --json                         print the submission (and final status) as JSON

${CONNECTION}

Examples:
  nessus-mcp scan 10.0.0.5 --name web-01 --wait
  SSH_PW=... nessus-mcp scan 10.0.0.0/28 --name lab --ssh-user audit --ssh-password-env SSH_PW`;

export const STATUS_HELP = `Usage: nessus-mcp status <task_id> [--wait] [--json]

Shows the task's status: progress while running; hosts, findings by severity and the SSH
authentication outcome once completed; the error when it failed.

Options:
  --wait              poll until the task ends, with a progress bar on stderr; exit 0 only
                      when it completed
  --interval SECONDS  first delay between polls (default 2; backs off to 15)
  --timeout SECONDS   stop waiting after this long (exit 1; the scan keeps running)
  --json              print the status object as JSON

${CONNECTION}`;

export const RESULTS_HELP = `Usage: nessus-mcp results <task_id> [options]

Shows a completed scan's findings: a severity table (the whole scan beside the findings listed)
and one row per finding.

Options:
  --page N               page to show (default 1)
  --all                  every page (fetched 100 findings at a time)
  --page-size N          findings per page, 10–100 (default 40)
  --profile NAME         minimal | summary | brief | full (default brief)
  --fields A,B,...       exact fields instead of a profile, e.g. host,plugin_name,compliance.result
  --filter KEY=VALUE     keep matching findings; repeat for AND, repeat a key for any-of.
                         Numbers compare: severity=4, severity='>=3', cvss_score=7..9;
                         host=10.0.0.0/24; text matches as a substring: cve=CVE-2021-44228
  --sort KEY             severity | cvss_score | host | plugin_id | port
  --json                 print the page ({schema, metadata, vulnerabilities, pagination}) as JSON

${CONNECTION}

Examples:
  nessus-mcp results ne_scan_20251201_143022_a1b2c3d4 --filter severity='>=3' --sort severity
  nessus-mcp results ne_scan_20251201_143022_a1b2c3d4 --all --json > findings.json`;

export const TASKS_HELP = `Usage: nessus-mcp tasks [options]

Lists recent tasks, newest first.

Options:
  --status STATUS   queued | running | completed | failed | timeout | cancelled
  --limit N         at most N tasks (default: the gateway's)
  --pool NAME       only tasks of this scanner pool
  --target ADDR     only tasks whose targets contain or overlap ADDR (an address or CIDR)
  --json            print the list as JSON

${CONNECTION}`;

export const CANCEL_HELP = `Usage: nessus-mcp cancel <task_id> [--json]

Stops a queued or running scan (on the scanner too). A task that already ended cannot be
cancelled (exit 1, code conflict).

${CONNECTION}`;
