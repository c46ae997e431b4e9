import ChainTypes
import HansaCrypto

/// A canonical encoding cut into named fields, built independently of the decoders so that a
/// test can replace one field and know the byte offset where it starts.
struct Layout: Sendable {
    var chunks: [(name: String, bytes: [UInt8])]

    var bytes: [UInt8] { chunks.flatMap(\.bytes) }

    /// Offset of the first chunk named `name` or nested under it (`name.` / `name[`).
    func offset(of name: String) -> Int {
        var at = 0
        for c in chunks {
            if c.name == name || c.name.hasPrefix(name + ".") || c.name.hasPrefix(name + "[") { return at }
            at += c.bytes.count
        }
        preconditionFailure("layout has no field \(name): \(chunks.map(\.name))")
    }

    func replacing(_ name: String, with bytes: [UInt8]) -> Layout {
        guard let i = chunks.firstIndex(where: { $0.name == name }) else { preconditionFailure("no field \(name)") }
        var copy = self
        copy.chunks[i].bytes = bytes
        return copy
    }

    /// Bytes of `body` written by a fresh `CanonicalWriter`.
    static func enc(_ body: (inout CanonicalWriter) -> Void) -> [UInt8] {
        var w = CanonicalWriter()
        body(&w)
        return w.bytes
    }

    static func transaction(_ tx: Transaction, prefix: String = "") -> Layout {
        let b = tx.body
        return Layout(chunks: [
            (prefix + "type", [TypeTag.transaction.rawValue]),
            (prefix + "version", [2]),
            (prefix + "chain", enc { $0.string(b.chain.id.value) }),
            (prefix + "genesis_hash", b.chain.genesisHash.bytes),
            (prefix + "sender", b.sender.bytes),
            (prefix + "nonce", enc { $0.uvarint(b.nonce) }),
            (prefix + "kind", [b.kind.rawValue]),
            (prefix + "payload", enc { $0.lengthPrefixed(b.payload) }),
            (prefix + "gas_limit", enc { $0.uvarint(b.gasLimit) }),
            (prefix + "signature", tx.signature.compact),
        ])
    }

    static func header(_ h: BlockHeader, prefix: String = "") -> Layout {
        Layout(chunks: [
            (prefix + "type", [TypeTag.blockHeader.rawValue]),
            (prefix + "version", [1]),
            (prefix + "height", enc { $0.uvarint(h.height) }),
            (prefix + "previous_hash", h.previousHash.bytes),
            (prefix + "timestamp_ms", enc { $0.uvarint(h.timestampMillis) }),
            (prefix + "transactions_root", h.transactionsRoot.bytes),
            (prefix + "state_root", h.stateRoot.bytes),
            (prefix + "receipts_root", h.receiptsRoot.bytes),
            (prefix + "proposer", h.proposer.bytes),
            (prefix + "view", enc { $0.uvarint(h.view) }),
        ])
    }

    static func block(_ b: Block) -> Layout {
        var chunks: [(name: String, bytes: [UInt8])] = [("type", [TypeTag.block.rawValue]), ("version", [1])]
        chunks += header(b.header, prefix: "header.").chunks
        chunks.append(("transactions", enc { $0.uvarint(b.transactions.count) }))
        for (i, tx) in b.transactions.enumerated() { chunks += transaction(tx, prefix: "transactions[\(i)].").chunks }
        return Layout(chunks: chunks)
    }

    static func vote(_ v: Vote) -> Layout {
        Layout(chunks: [
            ("type", [TypeTag.vote.rawValue]),
            ("version", [1]),
            ("phase", [v.phase.rawValue]),
            ("view", enc { $0.uvarint(v.view) }),
            ("height", enc { $0.uvarint(v.height) }),
            ("block_hash", v.blockHash.bytes),
            ("validator_index", enc { $0.uvarint(UInt64(v.validatorIndex)) }),
            ("signature", v.signature.compact),
        ])
    }

    static func certificate(_ c: CommitCertificate) -> Layout {
        var chunks: [(name: String, bytes: [UInt8])] = [
            ("type", [TypeTag.commitCertificate.rawValue]),
            ("version", [1]),
            ("view", enc { $0.uvarint(c.view) }),
            ("height", enc { $0.uvarint(c.height) }),
            ("block_hash", c.blockHash.bytes),
            ("signers", enc { $0.uvarint(c.signers.count) }),
        ]
        for (i, s) in c.signers.enumerated() {
            chunks.append(("signers[\(i)].validator_index", enc { $0.uvarint(UInt64(s.validatorIndex)) }))
            chunks.append(("signers[\(i)].signature", s.signature.compact))
        }
        return Layout(chunks: chunks)
    }

    /// `validators` overrides the (sorted) set so that a test can write them out of order.
    /// The layout of `g`, with any of its sets replaced (a `Genesis` keeps its sets sorted, so
    /// out-of-order bytes are built from lists given here).
    static func genesis(_ g: Genesis, validators: [Validator]? = nil, participants: [Participant]? = nil,
                        observers: [Observer]? = nil, currencies: [Currency]? = nil) -> Layout {
        let participantList = participants ?? g.participants, observerList = observers ?? g.observers
        let currencyList = currencies ?? g.currencies
        var chunks: [(name: String, bytes: [UInt8])] = [
            ("type", [TypeTag.genesis.rawValue]),
            ("version", [3]),
            ("chain", enc { $0.string(g.chain.value) }),
            ("genesis_time_ms", enc { $0.uvarint(g.genesisTimeMillis) }),
        ]
        let vs = validators ?? g.validators.validators
        chunks.append(("validators", enc { $0.uvarint(vs.count) }))
        for (i, v) in vs.enumerated() {
            let p = "validators[\(i)]."
            chunks.append((p + "name", enc { $0.string(v.name) }))
            chunks.append((p + "public_key", v.publicKey.bytes))
            chunks.append((p + "p2p_address", enc { $0.string(v.p2pAddress) }))
            chunks.append((p + "tls_spki_sha256", enc { $0.optional(v.tlsSPKISHA256) { $0.hash($1) } }))
        }
        chunks.append(("participants", enc { $0.uvarint(participantList.count) }))
        for (i, pt) in participantList.enumerated() {
            let p = "participants[\(i)]."
            chunks.append((p + "name", enc { $0.string(pt.name) }))
            chunks.append((p + "public_key", pt.publicKey.bytes))
            chunks.append((p + "role", [pt.role.rawValue]))
            chunks.append((p + "bank", enc { $0.optional(pt.bank) { $0.address($1) } }))
        }
        chunks.append(("observers", enc { $0.uvarint(observerList.count) }))
        for (i, o) in observerList.enumerated() {
            let p = "observers[\(i)]."
            chunks.append((p + "name", enc { $0.string(o.name) }))
            chunks.append((p + "node_key", o.nodeKey.bytes))
            chunks.append((p + "role", [o.role.rawValue]))
            chunks.append((p + "bank", enc { $0.optional(o.bank) { $0.address($1) } }))
            chunks.append((p + "tls_spki_sha256", o.tlsSPKISHA256.bytes))
        }
        chunks.append(("currencies", enc { $0.uvarint(currencyList.count) }))
        for (i, c) in currencyList.enumerated() {
            let p = "currencies[\(i)]."
            chunks.append((p + "code", Array(c.code.value.utf8)))
            chunks.append((p + "decimals", [c.decimals]))
            chunks.append((p + "issuers", enc { $0.uvarint(c.issuers.count) }))
            for (j, a) in c.issuers.enumerated() { chunks.append((p + "issuers[\(j)]", a.bytes)) }
        }
        chunks.append(("deposits", enc { $0.uvarint(g.deposits.count) }))
        for (i, d) in g.deposits.enumerated() {
            let p = "deposits[\(i)]."
            chunks.append((p + "account", d.account.bytes))
            chunks.append((p + "currency", Array(d.currency.value.utf8)))
            chunks.append((p + "amount", enc { $0.uvarint(d.amount) }))
        }
        let k = g.consensus
        for (name, value) in [("tick_ms", k.tickMillis), ("request_timeout_ticks", k.requestTimeoutTicks),
                              ("max_view_change_timeout_ticks", k.maxViewChangeTimeoutTicks),
                              ("checkpoint_interval", k.checkpointInterval), ("watermark_window", k.watermarkWindow),
                              ("max_block_transactions", k.maxBlockTransactions), ("max_block_bytes", k.maxBlockBytes),
                              ("max_clock_drift_ms", k.maxClockDriftMillis), ("max_block_gas", k.maxBlockGas),
                              ("max_block_state_bytes", k.maxBlockStateBytes)] {
            chunks.append(("consensus." + name, enc { $0.uvarint(value) }))
        }
        chunks.append(("governance_threshold", enc { $0.uvarint(g.governanceThreshold) }))
        return Layout(chunks: chunks)
    }
}

/// A LEB128 form of `value` padded with `extra` redundant bytes (0x80 continuations, then 0x00):
/// decodes to the same number but is not the shortest form.
func paddedUVarint(_ value: UInt64, extra: Int = 1) -> [UInt8] {
    var out = Layout.enc { $0.uvarint(value) }
    out[out.count - 1] |= 0x80
    out += [UInt8](repeating: 0x80, count: extra - 1) + [0x00]
    return out
}
