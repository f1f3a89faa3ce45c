# tls.sh - a test CA and server certificates for the loopback peers (sourced)
#   tls_ca NAME             NAME.key, NAME.crt: a self-signed CA (2 days)
#   tls_cert NAME CA SAN    NAME.key, NAME.crt signed by CA.crt for SAN, e.g. "IP:127.0.0.1"
# Files go to the current directory; both return non-zero when openssl fails.

tls_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=kvpscan test $1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

tls_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=kvpscan test $1" 2>/dev/null &&
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
		-days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
