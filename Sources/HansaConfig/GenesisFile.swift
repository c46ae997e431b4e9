import ChainTypes
import Foundation

/// The genesis file every node and auditor starts from: the JSON form of `Genesis`
/// (docs/PROTOCOL.md §6 lists the fields). `genesis_hash` repeats the hash of the canonical
/// encoding; reading recomputes it and refuses a file whose content no longer matches, so
/// an edited genesis is caught before a node joins the wrong chain.
public enum GenesisFile {
    public static let format = "hansa-genesis-v3"

    public static func write(_ genesis: Genesis, to path: String) throws(ConfigError) {
        try FileIO.write(encode(genesis), to: path)
    }

    public static func read(_ path: String) throws(ConfigError) -> Genesis {
        try decode(FileIO.read(path), file: path)
    }

    // MARK: Writing

    private struct FileForm: Encodable {
        let format: String
        let genesis_hash: String
        let chain_id: String
        let genesis_time_ms: UInt64
        let validators: [ValidatorForm]
        let participants: [ParticipantForm]
        let observers: [ObserverForm]
        let currencies: [CurrencyForm]
        let deposits: [DepositForm]
        let consensus: ConsensusForm
        let governance: GovernanceForm
    }
    private struct ValidatorForm: Encodable {
        let name: String, address: String, public_key: String, p2p_address: String, tls_spki_sha256: String?
    }
    private struct ParticipantForm: Encodable {
        let name: String, address: String, public_key: String, role: String, bank: String?
    }
    private struct ObserverForm: Encodable {
        let name: String, address: String, public_key: String, role: String, bank: String?, tls_spki_sha256: String
    }
    private struct CurrencyForm: Encodable { let code: String, decimals: UInt8, issuers: [String] }
    private struct DepositForm: Encodable { let account: String, currency: String, amount: String }
    private struct ConsensusForm: Encodable {
        let tick_ms: UInt64, request_timeout_ticks: UInt64, max_view_change_timeout_ticks: UInt64
        let checkpoint_interval: UInt64, watermark_window: UInt64, max_block_transactions: UInt64
        let max_block_bytes: UInt64, max_clock_drift_ms: UInt64
        let max_block_gas: UInt64, max_block_state_bytes: UInt64
    }
    private struct GovernanceForm: Encodable { let threshold: UInt64 }

    public static func encode(_ g: Genesis) -> Data {
        let decimals = Dictionary(uniqueKeysWithValues: g.currencies.map { ($0.code, $0.decimals) })
        let c = g.consensus
        let form = FileForm(
            format: format, genesis_hash: g.hash.hex, chain_id: g.chain.value, genesis_time_ms: g.genesisTimeMillis,
            validators: g.validators.validators.map {
                ValidatorForm(name: $0.name, address: $0.address.text, public_key: $0.publicKey.hex,
                              p2p_address: $0.p2pAddress, tls_spki_sha256: $0.tlsSPKISHA256?.hex)
            },
            participants: g.participants.map {
                ParticipantForm(name: $0.name, address: $0.address.text, public_key: $0.publicKey.hex,
                                role: $0.role.name, bank: $0.bank?.text)
            },
            observers: g.observers.map {
                ObserverForm(name: $0.name, address: $0.address.text, public_key: $0.nodeKey.hex, role: $0.role.name,
                             bank: $0.bank?.text, tls_spki_sha256: $0.tlsSPKISHA256.hex)
            },
            currencies: g.currencies.map { CurrencyForm(code: $0.code.value, decimals: $0.decimals, issuers: $0.issuers.map(\.text)) },
            deposits: g.deposits.map {
                DepositForm(account: $0.account.text, currency: $0.currency.value,
                            amount: Amount.format(minorUnits: $0.amount, decimals: decimals[$0.currency] ?? 0))
            },
            consensus: ConsensusForm(
                tick_ms: c.tickMillis, request_timeout_ticks: c.requestTimeoutTicks,
                max_view_change_timeout_ticks: c.maxViewChangeTimeoutTicks, checkpoint_interval: c.checkpointInterval,
                watermark_window: c.watermarkWindow, max_block_transactions: c.maxBlockTransactions,
                max_block_bytes: c.maxBlockBytes, max_clock_drift_ms: c.maxClockDriftMillis,
                max_block_gas: c.maxBlockGas, max_block_state_bytes: c.maxBlockStateBytes),
            governance: GovernanceForm(threshold: g.governanceThreshold))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        var data = try! encoder.encode(form)
        data.append(0x0a)
        return data
    }

    // MARK: Reading

    public static func decode(_ data: Data, file: String) throws(ConfigError) -> Genesis {
        let doc = try DocTable.parseJSON(data, file: file)
        let fmt = try doc.string("format")
        guard fmt == format else { throw doc.fail("format", "is \"\(fmt)\"; this version reads \"\(format)\"") }
        let claimedHash = try doc.string("genesis_hash")
        let chain: ChainID
        do { chain = try ChainID(try doc.string("chain_id")) } catch let e as ValueError { throw doc.fail("chain_id", e.message) }
        catch let e as ConfigError { throw e } catch { throw doc.fail("chain_id", "\(error)") }
        let time = try doc.unsigned("genesis_time_ms")

        var validators: [Validator] = []
        for t in try doc.tables("validators") {
            let key = try publicKey(t)
            let tls = try pin(t)
            validators.append(Validator(name: try t.string("name"), publicKey: key, p2pAddress: try t.string("p2p_address"),
                                        tlsSPKISHA256: tls))
            try t.finish()
        }
        var participants: [Participant] = []
        for t in try doc.tables("participants") {
            let key = try publicKey(t)
            let roleName = try t.string("role")
            guard let role = Role(name: roleName) else { throw t.fail("role", "unknown role \"\(roleName)\"") }
            let bank = try t.optionalString("bank").map { (text: String) throws(ConfigError) -> Address in
                guard let a = Address(text: text) else { throw t.fail("bank", "not an address (hx + 40 hex digits)") }
                return a
            }
            participants.append(Participant(name: try t.string("name"), publicKey: key, role: role, bank: bank))
            try t.finish()
        }
        var observers: [Observer] = []
        for t in try doc.tables("observers") {
            let key = try publicKey(t)
            let roleName = try t.string("role")
            guard let role = ObserverRole(name: roleName) else { throw t.fail("role", "unknown observer role \"\(roleName)\"") }
            let bank = try t.optionalString("bank").map { (text: String) throws(ConfigError) -> Address in
                guard let a = Address(text: text) else { throw t.fail("bank", "not an address (hx + 40 hex digits)") }
                return a
            }
            guard let tls = try pin(t) else { throw t.fail("tls_spki_sha256", "is missing; every observer's TLS key is pinned") }
            observers.append(Observer(name: try t.string("name"), nodeKey: key, role: role, bank: bank, tlsSPKISHA256: tls))
            try t.finish()
        }
        var currencies: [Currency] = []
        for t in try doc.tables("currencies") {
            let code: CurrencyCode
            do { code = try CurrencyCode(try t.string("code")) } catch let e as ValueError { throw t.fail("code", e.message) }
            catch let e as ConfigError { throw e } catch { throw t.fail("code", "\(error)") }
            let decimals = try t.unsigned("decimals")
            guard decimals <= UInt64(Amount.maxDecimals) else { throw t.fail("decimals", "above \(Amount.maxDecimals)") }
            var issuers: [Address] = []
            for (i, text) in try t.stringArray("issuers").enumerated() {
                guard let a = Address(text: text) else { throw t.fail("issuers[\(i)]", "not an address (hx + 40 hex digits)") }
                issuers.append(a)
            }
            currencies.append(Currency(code: code, decimals: UInt8(decimals), issuers: issuers))
            try t.finish()
        }
        var deposits: [Deposit] = []
        for t in try doc.tables("deposits") {
            guard let account = Address(text: try t.string("account")) else { throw t.fail("account", "not an address") }
            let codeText = try t.string("currency")
            guard let currency = currencies.first(where: { $0.code.value == codeText }) else {
                throw t.fail("currency", "\"\(codeText)\" is not one of the currencies")
            }
            let minor: UInt64
            do { minor = try Amount.parseMinorUnits(try t.string("amount"), decimals: currency.decimals) }
            catch let e as ValueError { throw t.fail("amount", e.message) }
            catch let e as ConfigError { throw e } catch { throw t.fail("amount", "\(error)") }
            deposits.append(Deposit(account: account, currency: currency.code, amount: minor))
            try t.finish()
        }
        let ct = try doc.table("consensus")
        let consensus = ConsensusParameters(
            tickMillis: try ct.unsigned("tick_ms"), requestTimeoutTicks: try ct.unsigned("request_timeout_ticks"),
            maxViewChangeTimeoutTicks: try ct.unsigned("max_view_change_timeout_ticks"),
            checkpointInterval: try ct.unsigned("checkpoint_interval"), watermarkWindow: try ct.unsigned("watermark_window"),
            maxBlockTransactions: try ct.unsigned("max_block_transactions"), maxBlockBytes: try ct.unsigned("max_block_bytes"),
            maxClockDriftMillis: try ct.unsigned("max_clock_drift_ms"),
            maxBlockGas: try ct.unsigned("max_block_gas"), maxBlockStateBytes: try ct.unsigned("max_block_state_bytes"))
        try ct.finish()
        let gt = try doc.table("governance")
        let threshold = try gt.unsigned("threshold")
        try gt.finish()
        try doc.finish()

        let set: ValidatorSet
        do { set = try ValidatorSet(validators) } catch { throw doc.fail("validators", error.message) }
        let genesis = Genesis(chain: chain, genesisTimeMillis: time, validators: set, participants: participants,
                              observers: observers, currencies: currencies, deposits: deposits, consensus: consensus, governanceThreshold: threshold)
        do { try genesis.validate() } catch { throw .field(path: file, field: error.field, problem: error.problem) }
        guard genesis.hash.hex == claimedHash.lowercased() else {
            throw doc.fail("genesis_hash", "is \(claimedHash) but the content hashes to \(genesis.hash.hex): the file was edited after it was made")
        }
        return genesis
    }

    /// Reads an optional `tls_spki_sha256`: 64 hex digits.
    private static func pin(_ t: DocTable) throws(ConfigError) -> Hash? {
        guard let hex = try t.optionalString("tls_spki_sha256") else { return nil }
        guard let raw = Hex.decode(hex), let h = Hash(bytes: raw) else { throw t.fail("tls_spki_sha256", "expected 64 hex digits") }
        return h
    }

    /// Reads `public_key` and checks the `address` printed beside it, if any.
    private static func publicKey(_ t: DocTable) throws(ConfigError) -> PublicKey {
        let key: PublicKey
        do { key = try PublicKey(hex: try t.string("public_key")) } catch let e as CryptoError { throw t.fail("public_key", e.description) }
        catch let e as ConfigError { throw e } catch { throw t.fail("public_key", "\(error)") }
        if let address = try t.optionalString("address"), address != key.address.text {
            throw t.fail("address", "does not match public_key (expected \(key.address.text))")
        }
        return key
    }
}
