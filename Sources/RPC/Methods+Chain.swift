import ChainTypes
import Foundation
import Ledger

// chain.* — the node and the chain's head; block.*, tx.*, account.* — what the ledger holds.
extension HansaRPC {
    func chainMethods() -> [RPCMethod] {
        [
            RPCMethod("chain.info", "The chain this node serves and the node itself: chain id, genesis hash, head, role, version.",
                      result: "info", schema: Schema.object("chain and node")) { [self] _ throws(RPCError) in
                let s = try snapshot()
                let info = service.nodeInfo()
                return .object([
                    "chain_id": .string(s.genesis.chain.value), "genesis_hash": .string(s.genesis.hash.hex),
                    "genesis_time": .string(Format.time(s.genesis.genesisTimeMillis)),
                    "height": .string(String(s.head.height)), "head_hash": .string(s.head.hash.hex),
                    "head_time": .string(Format.time(s.head.timestampMillis)),
                    "node": .string(info.name), "role": .string(info.role.rawValue), "version": .string(info.version),
                    "validators": .int(s.genesis.validators.validators.count),
                    "currencies": .array(s.genesis.currencies.map { .object(["code": .string($0.code.value), "decimals": .int($0.decimals)]) }),
                ])
            },
            RPCMethod("chain.head", "The head block's header and its commit certificate.", result: "head",
                      schema: Schema.object("header and certificate")) { [self] _ throws(RPCError) in
                let s = try snapshot()
                guard s.head.height > 0 else {
                    return .object(["height": "0", "hash": .string(s.head.hash.hex), "header": .null, "certificate": .null])
                }
                return try blockJSON(s, height: s.head.height, full: false)
            },
            RPCMethod("chain.syncStatus", "Whether the node is catching up, and to which height.", result: "sync",
                      schema: Schema.object("sync status")) { [self] _ throws(RPCError) in
                let s = try snapshot()
                let info = service.nodeInfo()
                return .object(["syncing": .bool(info.syncTarget != nil), "height": .string(String(s.head.height)),
                                "target_height": info.syncTarget.map { .string(String($0)) } ?? .null,
                                "view": .string(String(info.view)), "primary_index": info.primaryIndex.map { .int($0) } ?? .null])
            },
            RPCMethod("chain.validators", "The validator set from genesis, in index order, with the primary of the current view.",
                      result: "validators", schema: Schema.object("validators")) { [self] _ throws(RPCError) in
                let s = try snapshot()
                let info = service.nodeInfo()
                let list = s.genesis.validators.validators.enumerated().map { i, v -> JSON in
                    .object(["index": .int(i), "name": .string(v.name), "address": .string(v.publicKey.address.text),
                             "public_key": .string(v.publicKey.hex), "is_primary": .bool(info.primaryIndex == i)])
                }
                return .object(["view": .string(String(info.view)), "validators": .array(list)])
            },
            RPCMethod("chain.peers", "The peers this node is connected to, with the head each last reported.", result: "peers",
                      schema: Schema.object("peers")) { [self] _ throws(RPCError) in
                let info = service.nodeInfo()
                return .object(["peers": .array(info.peers.map { p in
                    .object(["name": .string(p.name), "role": .string(p.role), "height": p.height.map { .string(String($0)) } ?? .null])
                })])
            },
        ]
    }

    func ledgerMethods() -> [RPCMethod] {
        [
            RPCMethod("block.get", "A committed block by height or hash, with its commit certificate.",
                      params: [RPCParam("height", required: false, "the block's height (give this or hash)", schema: Schema.uint64),
                               RPCParam("hash", required: false, "the block's hash (give this or height)", schema: Schema.hash),
                               RPCParam("full", required: false, "true: whole transactions (those the caller may read); false: hashes",
                                        schema: Schema.boolean),
                               authParam],
                      result: "block", schema: Schema.object("block")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let p = call.params
                let height: UInt64
                switch (try p.uint64("height"), try p.hash("hash")) {
                case (let h?, nil): height = h
                case (nil, let hash?):
                    guard let h = try read({ () throws(LedgerError) in try s.height(of: hash) }) else { throw .notFound("block", hash.hex) }
                    height = h
                default: throw .invalidParams("give exactly one of height and hash")
                }
                guard height >= 1, height <= s.head.height else { throw .notFound("block", "at height \(height)") }
                let full = try p.bool("full") ?? false
                let reader = full ? try reader(call, s) : nil
                return try blockJSON(s, height: height, full: full, reader: reader, remote: call.remote)
            },
            RPCMethod("tx.submit", "Submits a signed transaction (its canonical bytes in hex); optionally waits for its receipt.",
                      params: [RPCParam("transaction", "the transaction's canonical encoding, hex", schema: Schema.hex),
                               RPCParam("wait_ms", required: false, "wait this long for the receipt (at most max_wait_ms)",
                                        schema: Schema.integer("milliseconds", minimum: 0, maximum: limits.maxWaitMillis))],
                      result: "submitted", schema: Schema.object("hash, status, and the receipt when committed")) { [self] call throws(RPCError) in
                try await submit(call)
            },
            RPCMethod("tx.submitBatch", "Submits many signed transactions at once (a bank's bulk submission); one outcome each, in order.",
                      params: [RPCParam("transactions", "the transactions' canonical encodings, hex, at most max_submit_batch",
                                        schema: .object(["type": "array", "items": Schema.hex, "maxItems": .int(limits.maxSubmitBatch)]))],
                      result: "submitted", schema: Schema.object("results: for each transaction its hash, or an error object")) { [self] call throws(RPCError) in
                try await submitBatch(call)
            },
            RPCMethod("tx.get", "A committed transaction by hash, with its block height, index and receipt.",
                      params: [RPCParam("hash", "the transaction's hash", schema: Schema.hash), authParam],
                      result: "transaction", schema: Schema.object("transaction with receipt")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let hash = try call.params.required("hash", call.params.hash)
                guard let found = try read({ () throws(LedgerError) in try s.transaction(hash) }) else { throw .notFound("transaction", hash.hex) }
                try authorizeTransactionRead(try reader(call, s), call, found.transaction, s, what: "transaction \(hash.hex)")
                return .object(["transaction": try json(TransactionJSON(found.transaction)), "height": .string(String(found.height)),
                                "index": .int(found.index), "receipt": try receiptJSON(found.receipt, s)])
            },
            RPCMethod("tx.receipt", "The receipt of a committed transaction (or of a scheduled call, by its id).",
                      params: [RPCParam("hash", "the transaction's hash or the scheduled call's id", schema: Schema.hash), authParam],
                      result: "receipt", schema: Schema.object("receipt")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let hash = try call.params.required("hash", call.params.hash)
                if let found = try read({ () throws(LedgerError) in try s.transaction(hash) }) {
                    try authorizeTransactionRead(try reader(call, s), call, found.transaction, s, what: "receipt of \(hash.hex)")
                    return .object(["height": .string(String(found.height)), "index": .int(found.index), "receipt": try receiptJSON(found.receipt, s)])
                }
                if let found = try read({ () throws(LedgerError) in try s.scheduledCall(hash) }) {
                    try authorizeContractRead(try reader(call, s), call, found.call.contract, s)
                    return .object(["height": .string(String(found.height)), "receipt_index": .int(found.index),
                                    "scheduled_call": try json(ScheduledCallJSON(found.call)), "receipt": try receiptJSON(found.receipt, s)])
                }
                throw .notFound("transaction", hash.hex)
            },
            RPCMethod("account.get", "An account's state: role, bank, nonce (the next one to use) and balances.",
                      params: [RPCParam("address", "the account's address", schema: Schema.address), authParam],
                      result: "account", schema: Schema.object("account")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("address", call.params.address)
                try reader(call, s).requireAccount(address, s, remote: call.remote)
                guard let account = try read({ () throws(LedgerError) in try s.account(address) }) else { throw .notFound("account", address.text) }
                var o = try json(AccountJSON(address: address, account)).objectValue ?? [:]
                o["balances"] = .array(account.balances.sorted { $0.key < $1.key }.map { currency, minor in
                    Format.amount(minor, currency, s.genesis)
                })
                return .object(o)
            },
        ]
    }

    /// A block at `height` with its certificate and, when `full`, the transactions `reader`
    /// may read (the others as their hash with `"redacted": true`).
    func blockJSON(_ s: LedgerSnapshot, height: UInt64, full: Bool, reader: Reader? = nil, remote: String = "") throws(RPCError) -> JSON {
        guard let block = try read({ () throws(LedgerError) in try s.block(at: height) }) else { throw .notFound("block", "at height \(height)") }
        let certificate = try read { () throws(LedgerError) in try s.certificate(at: height) }
        var o = try json(BlockJSON(block, certificate: certificate, fullTransactions: false)).objectValue ?? [:]
        o["time"] = .string(Format.time(block.header.timestampMillis))
        if full, let reader {
            var txs: [JSON] = []
            for tx in block.transactions {
                if reader.mayRead(tx, s) {
                    txs.append(try json(TransactionJSON(tx)))
                } else {
                    txs.append(.object(["hash": .string(tx.hash.hex), "redacted": true]))
                }
            }
            o["transactions"] = .array(txs)
        }
        return .object(o)
    }

    /// A receipt with its events decoded by the emitting contract's ABI where one is known (a
    /// credit's amounts and times also in words, as in `lc.timeline`).
    func receiptJSON(_ r: Receipt, _ s: LedgerSnapshot) throws(RPCError) -> JSON {
        var o = try json(ReceiptJSON(r)).objectValue ?? [:]
        var currencies: [Address: CurrencyCode?] = [:]
        o["events"] = .array(r.events.map { e in
            let currency: CurrencyCode?
            if let known = currencies[e.emitter] { currency = known } else {
                currency = creditCurrency(e.emitter, s)
                currencies[e.emitter] = currency
            }
            return withAmountText(decodedEvent(e, s), currency, s)
        })
        return .object(o)
    }

    func submit(_ call: RPCCall) async throws(RPCError) -> JSON {
        let bytes = try call.params.required("transaction") { (n: String) throws(RPCError) in try call.params.hex(n, maxBytes: 2 * Limits.maxPayloadBytes) }
        let wait = try call.params.int("wait_ms", in: 0...limits.maxWaitMillis) ?? 0
        let tx: Transaction
        do { tx = try Transaction(canonicalBytes: bytes) } catch {
            throw .invalidParams("the transaction does not decode: \(error)", param: "transaction")
        }
        do { _ = try await service.submit(tx) } catch {
            switch error {
            case .refused(.duplicate): break  // already in the mempool or on chain: wait for it like the first time
            case .refused(let e): throw .refused(e)
            case .unavailable(let why): throw .unavailable(why)
            }
        }
        var o: JSONObject = ["hash": .string(tx.hash.hex)]
        if wait > 0, let r = await service.receipt(of: tx.hash, timeout: .milliseconds(wait)) {
            let s = try snapshot()
            o["status"] = "committed"
            o["height"] = .string(String(r.height))
            o["index"] = .int(r.index)
            o["receipt"] = try receiptJSON(r.receipt, s)
        } else {
            o["status"] = "pending"
        }
        return .object(o)
    }

    func submitBatch(_ call: RPCCall) async throws(RPCError) -> JSON {
        guard let list = call.params["transactions"]?.arrayValue else {
            throw .invalidParams("transactions must be a list of hex strings", param: "transactions")
        }
        guard list.count <= limits.maxSubmitBatch else {
            throw .limit("max_submit_batch", value: list.count, max: limits.maxSubmitBatch,
                         "\(list.count) transactions; at most \(limits.maxSubmitBatch) in one tx.submitBatch")
        }
        // Each entry decodes or gets its own error; the decodable ones go to the node together.
        var decoded: [Transaction] = []
        var outcome = [JSON?](repeating: nil, count: list.count)
        var slot: [Int] = []
        for (i, item) in list.enumerated() {
            guard let hex = item.stringValue, hex.utf8.count <= 4 * Limits.maxPayloadBytes,
                  let bytes = Hex.decode(hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex) else {
                outcome[i] = .object(["error": RPCError.invalidParams("transactions[\(i)] is not hex", param: "transactions").json])
                continue
            }
            do throws(DecodeError) {
                decoded.append(try Transaction(canonicalBytes: bytes))
                slot.append(i)
            } catch {
                outcome[i] = .object(["error": RPCError.invalidParams("transactions[\(i)] does not decode: \(error)", param: "transactions").json])
            }
        }
        let results = await service.submit(batch: decoded)
        for (k, r) in results.enumerated() {
            switch r {
            case .success(let h): outcome[slot[k]] = .object(["hash": .string(h.hex), "status": "pending"])
            case .failure(.refused(.duplicate)): outcome[slot[k]] = .object(["hash": .string(decoded[k].hash.hex), "status": "pending"])
            case .failure(.refused(let e)): outcome[slot[k]] = .object(["hash": .string(decoded[k].hash.hex), "error": RPCError.refused(e).json])
            case .failure(.unavailable(let why)): outcome[slot[k]] = .object(["hash": .string(decoded[k].hash.hex), "error": RPCError.unavailable(why).json])
            }
        }
        return .object(["results": .array(outcome.map { $0 ?? .null })])
    }

    func json(_ value: some Encodable) throws(RPCError) -> JSON {
        do { return try JSON(encoding: value) } catch { throw .internalError("cannot encode the answer: \(error)") }
    }
}

/// How the RPC writes times and amounts for people (docs/RPC.md "Conventions").
public enum Format {
    /// ISO 8601 in UTC with milliseconds, e.g. `2026-03-01T12:00:00.000Z`.
    public static func time(_ millis: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// `"USD 250,000.00"`: the currency, then the amount with its decimals and thousands commas.
    public static func text(_ minor: UInt64, _ currency: CurrencyCode, decimals: UInt8) -> String {
        let plain = Amount.format(minorUnits: minor, decimals: decimals)
        let parts = plain.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        grouped = whole + grouped
        return "\(currency.value) " + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// An amount as JSON: currency, minor units (a decimal string) and text.
    static func amount(_ minor: UInt64, _ currency: CurrencyCode, _ genesis: Genesis) -> JSON {
        let decimals = genesis.currencies.first { $0.code == currency }?.decimals ?? 0
        return .object(["currency": .string(currency.value), "amount_minor": .string(String(minor)),
                        "text": .string(text(minor, currency, decimals: decimals))])
    }
}
