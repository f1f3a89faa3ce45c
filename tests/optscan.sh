#!/bin/sh
# optscan.sh - every configuration key in src/conf.c's table is documented in
# docs/kvpscan.conf.5 and listed in etc/kvpscan.conf, and those files name no
# key that does not exist; the sample file is valid and holds the defaults.
. "$top_srcdir/tests/lib/common.sh"
unset CREDENTIALS_DIRECTORY

SAMPLE=$top_srcdir/etc/kvpscan.conf
MANPAGE=$top_srcdir/docs/kvpscan.conf.5
scratch_dir

assert_status 0 "check-config --list-keys works" -- "$KVPSCAN" check-config --list-keys
printf '%s\n' "$OUT" | sort > "$T_SCRATCH/table"
nkeys=$(wc -l < "$T_SCRATCH/table")
if [ "$nkeys" -ge 50 ]; then ok "the table has $nkeys keys"; else not_ok "the table has only $nkeys keys"; fi
groups=$(cut -d. -f1 "$T_SCRATCH/table" | sort -u | tr '\n' '|' | sed 's/|$//')

# Keys the sample sets: "key = value;" lines (not comments) inside "group = {".
awk '
	/^[ \t]*(#|\/\/)/ { next }
	/^[a-z_]+[ \t]*[=:][ \t]*\{/ { g = $0; sub(/[ \t]*[=:].*/, "", g); next }
	/^\};/ { g = ""; next }
	g != "" && /^[ \t]+[a-z_]+[ \t]*[=:]/ { k = $0; sub(/^[ \t]+/, "", k); sub(/[ \t]*[=:].*/, "", k); print g "." k }
' "$SAMPLE" | sort > "$T_SCRATCH/sample"
# Keys the man page documents: ".TP" then ".B group.key".
awk 'prev == ".TP" && /^\.B [a-z_]+\.[a-z_]+$/ { print $2 } { prev = $0 }' "$MANPAGE" | sort > "$T_SCRATCH/manpage"

missing_sample=$(comm -23 "$T_SCRATCH/table" "$T_SCRATCH/sample")
assert_eq "" "$missing_sample" "every key is listed in etc/kvpscan.conf"
extra_sample=$(comm -13 "$T_SCRATCH/table" "$T_SCRATCH/sample")
assert_eq "" "$extra_sample" "etc/kvpscan.conf sets no unknown key"
dup_sample=$(uniq -d "$T_SCRATCH/sample")
assert_eq "" "$dup_sample" "etc/kvpscan.conf sets each key once"
missing_man=$(comm -23 "$T_SCRATCH/table" "$T_SCRATCH/manpage")
assert_eq "" "$missing_man" "every key is documented in kvpscan.conf(5)"
extra_man=$(comm -13 "$T_SCRATCH/table" "$T_SCRATCH/manpage")
assert_eq "" "$extra_man" "kvpscan.conf(5) documents no unknown key"

# Dotted key names mentioned anywhere in the sample's text (comments too) and
# in the man page's bold text must exist.
{
	grep -oE "(^|[^a-z_./@])($groups)\.[a-z_]+" "$SAMPLE"
	grep -E '^\.(B|BR|RB|I|IR|RI) ' "$MANPAGE" | grep -oE "(^|[^a-z_./@])($groups)\.[a-z_]+"
} | sed 's/^[^a-z]*//' | sort -u > "$T_SCRATCH/mentioned"
stale=$(comm -13 "$T_SCRATCH/table" "$T_SCRATCH/mentioned")
assert_eq "" "$stale" "no stale key name is mentioned in the sample or the man page"
nmention=$(wc -l < "$T_SCRATCH/mentioned")
if [ "$nmention" -ge 10 ]; then ok "key references found ($nmention)"; else not_ok "only $nmention key references found"; fi

# The sample is valid, and it holds exactly the built-in defaults.
assert_status 0 "the sample configuration is valid" -- "$KVPSCAN" -c "$SAMPLE" check-config
assert_contains "$OUT" "configuration file $SAMPLE is valid" "check-config says the sample is valid"
"$KVPSCAN" -c "$SAMPLE" check-config --dump | sed 1d > "$T_SCRATCH/sample.dump"
"$KVPSCAN" check-config --dump | sed 1d > "$T_SCRATCH/default.dump"
assert_eq "" "$(diff "$T_SCRATCH/default.dump" "$T_SCRATCH/sample.dump")" "the sample's values are the defaults"
assert_status 0 "the dump is itself a valid file" -- "$KVPSCAN" -c "$T_SCRATCH/sample.dump" check-config

# Without a file: the defaults.
assert_status 0 "an empty file is valid" -- "$KVPSCAN" -c /dev/null check-config
assert_eq "" "$("$KVPSCAN" -c /dev/null check-config --dump | sed 1d | diff "$T_SCRATCH/default.dump" -)" "an empty file gives the defaults"
cd "$T_SCRATCH" || exit 1

# A bad file exits 2 with FILE:LINE; so does a missing one.
assert_status 2 "a bad file is refused with status 2" -- "$KVPSCAN" -c "$top_srcdir/tests/conf/bad-unknown-key.conf" check-config
assert_contains "$OUT" "bad-unknown-key.conf:6: unknown key \"identification.windw_months\"" "the error names file and line"
assert_contains "$OUT" "did you mean \"identification.window_months\"?" "the error suggests the right key"
assert_status 2 "a missing file is refused with status 2" -- "$KVPSCAN" -c "$T_SCRATCH/nonexistent.conf" check-config
assert_status 2 "an unknown option is refused" -- "$KVPSCAN" check-config --frobnicate
assert_status 0 "check-config --help" -- "$KVPSCAN" check-config --help
assert_contains "$OUT" "--dump" "the help names --dump"

# A secret file readable by others is refused at load time.
printf 'S3cr3t-Value\n' > "$T_SCRATCH/pw"
chmod 644 "$T_SCRATCH/pw"
printf 'database = {\n  password_file = "%s";\n};\n' "$T_SCRATCH/pw" > "$T_SCRATCH/secret.conf"
assert_status 2 "a loose secret file is refused" -- "$KVPSCAN" -c "$T_SCRATCH/secret.conf" check-config
assert_contains "$OUT" "secret.conf:2: secret file" "the secret error names file and line"
assert_contains "$OUT" "chmod 600 $T_SCRATCH/pw" "the secret error says how to fix it"
chmod 600 "$T_SCRATCH/pw"
assert_status 0 "a private secret file is accepted" -- "$KVPSCAN" -c "$T_SCRATCH/secret.conf" check-config
assert_not_contains "$OUT" "S3cr3t" "check-config does not print the secret"

finish
