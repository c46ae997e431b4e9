import ChainTypes
import Foundation
import HansaConfig

/// Deterministic keys and a valid template for the tests of this target.
enum Fixture {
    static func key(_ name: String) -> PrivateKey { try! PrivateKey(secret: SHA256.hash(utf8: "fixture \(name)").bytes) }
    static func pub(_ name: String) -> String { key(name).publicKey.hex }

    /// A complete, valid 4-bank template with two observers, using public_key = "…" for every party.
    static func template() -> String {
        """
        chain_id = "hansa-test"
        genesis_time = 2026-12-01T00:00:00Z

        [consensus]
        tick_ms = 100
        request_timeout_ticks = 20

        [governance]
        threshold = 3

        [[validators]]
        name = "bank-a"
        public_key = "\(pub("bank-a"))"
        p2p_address = "127.0.0.1:7101"

        [[validators]]
        name = "bank-b"
        public_key = "\(pub("bank-b"))"
        p2p_address = "127.0.0.1:7102"

        [[validators]]
        name = "bank-c"
        public_key = "\(pub("bank-c"))"
        p2p_address = "127.0.0.1:7103"

        [[validators]]
        name = "bank-d"
        public_key = "\(pub("bank-d"))"
        p2p_address = "127.0.0.1:7104"
        tls_spki_sha256 = "\(String(repeating: "ab", count: 32))"

        [[participants]]
        name = "exporter-1"
        role = "exporter"
        bank = "bank-b"
        public_key = "\(pub("exporter-1"))"

        [[participants]]
        name = "importer-1"
        role = "importer"
        bank = "bank-a"
        public_key = "\(pub("importer-1"))"

        [[participants]]
        name = "carrier-1"
        role = "carrier"
        public_key = "\(pub("carrier-1"))"

        [[observers]]
        name = "auditor-node"
        role = "auditor"
        public_key = "\(pub("auditor-node"))"
        tls_spki_sha256 = "\(String(repeating: "cd", count: 32))"

        [[observers]]
        name = "replica-a"
        role = "replica"
        bank = "bank-a"
        public_key = "\(pub("replica-a"))"
        tls_spki_sha256 = "\(String(repeating: "ef", count: 32))"

        [[currencies]]
        code = "USD"
        decimals = 2
        issuers = ["bank-a", "bank-b"]

        [[deposits]]
        account = "importer-1"
        currency = "USD"
        amount = "5000000.25"
        """
    }

    static func build(_ text: String, keysDir: String? = nil) throws(ConfigError) -> Genesis {
        try GenesisTemplate(file: "t.toml", keysDirectory: keysDir).build(text: text, now: { 1_000 })
    }

    /// A fresh empty directory under the system's temporary directory.
    static func tempDir() -> String {
        let path = NSTemporaryDirectory() + "hansa-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
