#!/bin/sh
# spool.sh - the spool channel: <id>.json files written atomically, setup errors, idempotent rewrites
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

unset CREDENTIALS_DIRECTORY
scratch_dir
cd "$T_SCRATCH" || exit 1
# the house rule: a real server for every integration test (test-delivery itself needs none)
pg_start || exit 1

SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
write_conf() {	# write_conf FILE DIRECTORY
	printf 'log = { destination = "stderr"; };\nspool = { directory = "%s"; };\n' "$2" > "$1"
}
write_conf ok.conf "$SPOOL"
WANT='{"type":"kvpscan.test","version":1,"message":"test delivery from kvpscan, no personal data"}'

# ---------------------------------------------------------------- a batch
assert_status 0 "5 messages spooled" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --count 5 --id sp
assert_eq 5 "$(printf '%s\n' "$OUT" | grep -c '^sp-[1-5] ok - -$')" "each message reported ok"
assert_contains "$OUT" "info: wrote 5 spool files" "a count in the log"
assert_eq "sp-1.json sp-2.json sp-3.json sp-4.json sp-5.json" "$(cd "$SPOOL" && ls | sort | tr '\n' ' ' | sed 's/ $//')" \
	"exactly the 5 files, no temp files left"
assert_eq "$WANT" "$(cat "$SPOOL/sp-3.json")" "the file holds the JSON document"
assert_eq "640" "$(stat -c %a "$SPOOL/sp-1.json")" "mode 0640"
if /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$SPOOL/sp-5.json" 2>/dev/null; then
	ok "the file parses as JSON"
else
	not_ok "the file parses as JSON"
fi

# ---------------------------------------------------------------- --id: the whole id for one message, numbered for more
assert_status 0 "test-delivery --help" -- "$KVPSCAN" -c ok.conf test-delivery --help
assert_contains "$OUT" "--id ID          the message id" "the help calls --id the message id"
assert_contains "$OUT" "ID-1, ID-2, ... ID-N" "the help says how several are numbered"
assert_not_contains "$OUT" "prefix" "the help no longer calls it a prefix"
LONGID=$(printf 'x%.0s' $(seq 1 150))
assert_status 0 "a 150-character id" -- "$KVPSCAN" -c ok.conf test-delivery --channel spool --id "$LONGID"
assert_contains "$OUT" "$LONGID ok - -" "a long id is used whole, not cut short"
[ -f "$SPOOL/$LONGID.json" ] && ok "the file carries the whole id" || not_ok "the file carries the whole id"
rm -f "$SPOOL/$LONGID.json"
assert_status 2 "an id over 180 characters is a usage error" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --id "$LONGID$LONGID"
assert_status 2 "an empty id is a usage error" -- "$KVPSCAN" -c ok.conf test-delivery --channel spool --id ""

# ---------------------------------------------------------------- rewriting the same id replaces the file
echo 'stale' > "$SPOOL/sp-2.json"
INODE_BEFORE=$(stat -c %i "$SPOOL/sp-2.json")
assert_status 0 "re-spooling an existing id succeeds" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --id sp-2
assert_eq "$WANT" "$(cat "$SPOOL/sp-2.json")" "the file was replaced"
assert_eq 5 "$(ls "$SPOOL" | wc -l | tr -d ' ')" "still 5 files"
# replaced by rename, never rewritten in place: a reader holding the old file keeps the old text
if [ "$INODE_BEFORE" != "$(stat -c %i "$SPOOL/sp-2.json")" ]; then ok "replaced by rename (new inode)"
else not_ok "replaced by rename (new inode)"; fi

# ---------------------------------------------------------------- atomic under a watching reader
# a reader polling the directory while 200 files are written never sees a partial *.json
/usr/bin/python3 - "$SPOOL" "$WANT" > reader.out 2>&1 <<'EOF' &
import os, sys, time
d, want = sys.argv[1], sys.argv[2]
bad = seen = 0
end = time.time() + 20
while time.time() < end:
    names = [n for n in os.listdir(d) if n.startswith("burst-") and n.endswith(".json")]
    for n in names:
        try:
            with open(os.path.join(d, n)) as f:
                if f.read() != want:
                    bad += 1
            seen += 1
        except FileNotFoundError:
            pass
    if len(names) >= 200:
        break
print("seen=%d bad=%d files=%d" % (seen, bad, len(names)))
EOF
READER=$!
assert_status 0 "200 messages spooled" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --count 200 --id burst
wait "$READER"
assert_contains "$(cat reader.out)" "bad=0 files=200" "a reader never saw a partial file"
LEFT=0
for f in "$SPOOL"/* "$SPOOL"/.[!.]*; do
	case $f in *.json | *'*') ;; *) LEFT=$((LEFT + 1)) ;; esac
done
assert_eq 0 "$LEFT" "no temp files left after the burst"

# ---------------------------------------------------------------- ids that cannot be file names
assert_status 1 "an id starting with '.' is refused" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --id .hidden
assert_contains "$OUT" ".hidden failed - delivery id cannot be a file name" "leading dot: failed (permanent)"
assert_status 1 "an id with '/' is refused" -- \
	"$KVPSCAN" -c ok.conf test-delivery --channel spool --id ../escape
assert_contains "$OUT" "../escape failed -" "slash: failed (permanent)"
if [ ! -e "$T_SCRATCH/escape.json" ] && [ ! -e "$SPOOL/.hidden.json" ]; then ok "nothing written outside or hidden"
else not_ok "nothing written outside or hidden"; fi

# ---------------------------------------------------------------- setup errors
write_conf missing.conf "$T_SCRATCH/nope"
assert_status 1 "a missing directory is an error" -- \
	"$KVPSCAN" -c missing.conf test-delivery --channel spool --id x
assert_contains "$OUT" "error: could not use spool directory \"$T_SCRATCH/nope\": No such file or directory" \
	"missing directory: the path in the error"
assert_contains "$OUT" "HINT:  create it, e.g. \"mkdir" "missing directory: a mkdir hint"
if [ ! -e "$T_SCRATCH/nope" ]; then ok "missing directory: not created behind the operator's back"
else not_ok "missing directory: not created behind the operator's back"; fi

echo "not a directory" > notdir
write_conf notdir.conf "$T_SCRATCH/notdir"
assert_status 1 "a file instead of a directory is an error" -- \
	"$KVPSCAN" -c notdir.conf test-delivery --channel spool --id x
assert_contains "$OUT" "is not a directory" "not a directory: said so"

# permissions: only meaningful for a non-root user (root writes anywhere)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && runuser -u nobody -- test -x "$KVPSCAN"; then
	mkdir -p ro && chmod 755 ro
	write_conf ro.conf "$T_SCRATCH/ro"
	chmod 644 ro.conf
	OUT=$(runuser -u nobody -- "$KVPSCAN" -c ro.conf test-delivery --channel spool --id x 2>&1)
	assert_eq 1 "$?" "an unwritable directory is an error"
	assert_contains "$OUT" "cannot write to spool directory" "unwritable: said so"
	assert_contains "$OUT" "HINT:  give the user kvpscan runs as write permission" "unwritable: a permissions hint"
fi

finish
