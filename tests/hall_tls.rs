//! TLS to the hall database (issue 14 item 1): a real PostgreSQL server of this test's own
//! that accepts only TLS connections on TCP (`hostnossl … reject`), with a certificate signed
//! by a hall CA made here with `openssl`. Terminals connect with
//! `sslmode=verify-full&sslrootcert=…` in `ticketing.queue`; a CA that did not sign the
//! server's certificate, or a host name the certificate does not carry, is refused in one
//! sentence naming the key, exit code 2.

mod common;

use std::path::Path;
use std::process::Command;

use common::hall::{json, Terminal};
use common::pg_server::{is_root, run, server_dir, Server};

/// `openssl` with `args` (split at spaces) in `dir`.
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args.split_whitespace())
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl ({e}): scripts/test installs it (Debian's openssl package)")
        });
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const EC: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

/// A CA named `name` in `dir`: `{name}.crt` and `{name}.key`.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &format!(
            "req -x509 {EC} -days 2 -subj /CN={name} \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign \
             -keyout {name}.key -out {name}.crt"
        ),
    );
}

/// The server's key and certificate (`server.key`, `server.crt`), for `localhost` and
/// 127.0.0.1, signed by the CA `hall-ca`.
fn server_cert(dir: &Path) {
    openssl(
        dir,
        &format!("req {EC} -subj /CN=hall-db -keyout server.key -out server.csr"),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        "x509 -req -in server.csr -CA hall-ca.crt -CAkey hall-ca.key -CAcreateserial \
         -days 2 -extfile server.ext -out server.crt",
    );
    if is_root() {
        run(Command::new("chown")
            .args(["postgres:", "server.key", "server.crt"])
            .current_dir(dir));
    }
}

#[test]
fn the_hall_over_tls_trusts_only_the_hall_ca_and_the_name_in_its_certificate() {
    let dir = server_dir();
    let d = dir.path();
    ca(d, "hall-ca");
    ca(d, "other-ca");
    server_cert(d);
    let server = Server::init(
        d.join("data"),
        d,
        &format!(
            "ssl = on\nssl_cert_file = '{0}/server.crt'\nssl_key_file = '{0}/server.key'\n",
            d.display()
        ),
    );
    // TCP only with TLS; the test's own set-up through the socket.
    std::fs::write(
        server.data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n",
    )
    .unwrap();
    server.start(&d.join("server.log"));
    let mut admin = postgres::Client::connect(
        &format!(
            "host={} port={} user=ykb_test dbname=postgres",
            d.display(),
            server.port
        ),
        postgres::NoTls,
    )
    .unwrap();
    admin.batch_execute("CREATE DATABASE ykb_hall").unwrap();

    let port = server.port;
    let uri = |host: &str, extra: &str, ca: &str| {
        format!(
            "postgresql://ykb_test@{host}:{port}/ykb_hall?connect_timeout=5{extra}&sslmode=verify-full&sslrootcert={}/{ca}.crt",
            d.display()
        )
    };

    // Without TLS the server refuses: what follows is encrypted.
    let plain = Terminal::new(&format!("postgresql://ykb_test@127.0.0.1:{port}/ykb_hall"));
    let (code, _, err) = plain.run(&["hall", "init"]);
    assert_eq!(code, 2, "{err}");

    // The hall CA, by name and by address: the hall is set up and serves a ticket.
    let by_name = Terminal::new(&uri("localhost", "", "hall-ca"));
    by_name.ok(&["hall", "init"]);
    by_name.grant(1, 10);
    let issued = json(&by_name.ok(&["ticket", "issue", "A", "--json"]));
    let by_ip = Terminal::new(&uri("127.0.0.1", "", "hall-ca"));
    let status = json(&by_ip.ok(&["hall", "status", "--json"]));
    assert_eq!(status["schema_version"], 1, "{status}");
    by_ip.ok(&["ticket", "open", "1"]);
    let called = json(&by_ip.ok(&["ticket", "call", "1", "--json"]));
    assert_eq!(called["number"], issued["number"]);

    // A CA that did not sign the server's certificate; a name the certificate does not carry.
    for (t, why) in [
        (
            Terminal::new(&uri("localhost", "", "other-ca")),
            "another CA",
        ),
        (
            Terminal::new(&uri("hall-db.invalid", "&hostaddr=127.0.0.1", "hall-ca")),
            "a name not in the certificate",
        ),
    ] {
        let (code, out, err) = t.run(&["hall", "status"]);
        assert_eq!(code, 2, "{why}: {out}{err}");
        assert!(
            err.contains("ticketing.queue") && err.contains("sslrootcert") && err.contains("证书"),
            "{why}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{why}: one sentence: {err}");
    }
}
