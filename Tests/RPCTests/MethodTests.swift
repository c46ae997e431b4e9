import ChainTypes
import ContractVM
import Foundation
import HansaCrypto
import Ledger
import Logging
import Testing
@testable import RPC

/// The methods over a ledger with a letter of credit on it: what each answers, who may read
/// what, and the access log.
@Suite("RPC methods", .serialized)
struct MethodTests {
    let node: InstantNode
    let rpc: HansaRPC

    init() throws {
        node = try InstantNode()
        rpc = node.rpc()
    }

    func result(_ method: String, _ params: JSONObject = [:]) async throws -> JSON {
        let answer = try await call(rpc, method, params)
        return try #require(answer["result"], "\(method): \(answer)")
    }

    func error(_ method: String, _ params: JSONObject = [:]) async throws -> (code: Int, reason: String, message: String) {
        let answer = try await call(rpc, method, params)
        let e = try #require(answer["error"], "\(method) should fail: \(answer)")
        return (e["code"]!.integer(Int.self)!, e["data"]!["reason"]!.stringValue!, e["message"]!.stringValue!)
    }

    /// `params` with an `auth` signed by `key`.
    func signed(_ key: PrivateKey, _ method: String, _ params: JSONObject) -> JSONObject {
        var p = params
        p["auth"] = node.auth(key, method, params)
        return p
    }

    @Test("chain.info, chain.head, chain.validators, chain.peers describe the chain and the node")
    func chain() async throws {
        let info = try await result("chain.info")
        #expect(info["height"] == "4")
        #expect(info["chain_id"] == .string(node.chain.genesis.chain.value))
        #expect(info["genesis_hash"] == .string(node.chain.genesis.hash.hex))
        #expect(info["head_time"]?.stringValue?.hasSuffix("Z") == true)
        let head = try await result("chain.head")
        #expect(head["header"]?["height"] == "4")
        #expect(head["certificate"]?["signers"]?.arrayValue?.count == 3)
        let validators = try await result("chain.validators")
        #expect(validators["validators"]?.arrayValue?.count == 4)
        #expect(try await result("chain.peers")["peers"]?.arrayValue?.first?["name"] == "bank-1")
    }

    @Test("block.get by height and by hash agree; an unknown block is not_found; both keys at once is invalid")
    func blocks() async throws {
        let byHeight = try await result("block.get", ["height": "2"])
        let hash = try #require(byHeight["header"]?["hash"]?.stringValue)
        #expect(try await result("block.get", ["hash": .string(hash)]) == byHeight)
        #expect(try await error("block.get", ["height": "99"]).reason == "not_found")
        #expect(try await error("block.get", ["height": "0"]).reason == "not_found")
        #expect(try await error("block.get", ["height": "1", "hash": .string(hash)]).code == -32602)
        #expect(try await error("block.get", ["height": "abc"]).code == -32602)
    }

    @Test("block.get full: a credit's transactions are redacted for an anonymous reader, shown to a party")
    func redaction() async throws {
        let anonymous = try await result("block.get", ["height": "2", "full": true])
        #expect(anonymous["transactions"]?.arrayValue?.first?["redacted"] == true)
        let party = try await result("block.get", signed(node.chain.importer, "block.get", ["height": "2", "full": true]))
        #expect(party["transactions"]?.arrayValue?.first?["kind"] == "call_contract")
    }

    @Test("tx.submit admits a signed transfer and, waiting, returns its committed receipt; tx.get and tx.receipt find it")
    func submit() async throws {
        let usd = node.chain.dev.usd
        let tx = node.signed(node.chain.importer, .transfer, TransferPayload(to: node.chain.exporter.publicKey.address, currency: usd, amount: 1_00))
        let answer = try await result("tx.submit", ["transaction": .string(Hex.encode(tx.canonicalBytes)), "wait_ms": .int(5_000)])
        #expect(answer["status"] == "committed")
        #expect(answer["hash"] == .string(tx.hash.hex))
        #expect(answer["receipt"]?["status"] == "success")
        let fields = answer["receipt"]?["events"]?.arrayValue?.first?["fields"]
        #expect(fields?["amount"]?["text"] == "USD 1.00")
        // Need-to-know: the sender reads it; an outsider does not.
        let got = try await result("tx.get", signed(node.chain.importer, "tx.get", ["hash": .string(tx.hash.hex)]))
        #expect(got["height"] == "5")
        #expect(try await error("tx.get", signed(InstantNode.outsider, "tx.get", ["hash": .string(tx.hash.hex)])).reason == "read_not_allowed")
        #expect(try await error("tx.receipt", ["hash": .string(tx.hash.hex)]).reason == "read_not_allowed")
        #expect(try await result("tx.receipt", signed(InstantNode.auditor, "tx.receipt", ["hash": .string(tx.hash.hex)]))["height"] == "5")
    }

    @Test("tx.submitBatch: each transaction's outcome in order — admitted, undecodable, refused with its code; over the limit is one error")
    func submitBatch() async throws {
        let usd = node.chain.dev.usd
        let good = node.signed(node.chain.importer, .transfer, TransferPayload(to: node.chain.exporter.publicKey.address, currency: usd, amount: 5))
        let poor = node.signed(node.chain.exporter, .transfer, TransferPayload(to: node.chain.importer.publicKey.address, currency: usd, amount: 1_000_000_00))
        let answer = try await result("tx.submitBatch", ["transactions": .array([.string(Hex.encode(good.canonicalBytes)), "zz", .string(Hex.encode(poor.canonicalBytes))])])
        let results = try #require(answer["results"]?.arrayValue)
        #expect(results.count == 3)
        #expect(results[0]["hash"] == .string(good.hash.hex) && results[0]["status"] == "pending")
        #expect(results[1]["error"]?["code"] == .number("-32602"))
        #expect(results[2]["error"]?["data"]?["reason"] == "insufficient_funds")
        #expect(try await result("chain.info")["height"] == "5")  // the good one committed
        var small = RPCLimits()
        small.maxSubmitBatch = 1
        let limited = node.rpc(limits: small)
        defer { limited.shutdown() }
        let e = try await call(limited, "tx.submitBatch", ["transactions": ["00", "00"]])
        #expect(e["error"]?["data"]?["limit"] == "max_submit_batch")
    }

    @Test("tx.submit refusals carry their code and reason", arguments: ["nonce_too_low", "insufficient_funds", "bad_signature", "undecodable"])
    func refusals(_ reason: String) async throws {
        let usd = node.chain.dev.usd
        let to = node.chain.exporter.publicKey.address
        let hex: String
        switch reason {
        case "nonce_too_low":
            let body = TransactionBody(chain: node.chain.dev.binding, sender: node.chain.importer.publicKey, nonce: 0, kind: .transfer,
                                       payload: TransferPayload(to: to, currency: usd, amount: 1).canonicalBytes, gasLimit: 100_000)
            hex = Hex.encode(body.signed(with: node.chain.importer).canonicalBytes)
        case "insufficient_funds":
            hex = Hex.encode(node.signed(node.chain.exporter, .transfer, TransferPayload(to: to, currency: usd, amount: 1)).canonicalBytes)
        case "bad_signature":
            var bytes = node.signed(node.chain.importer, .transfer, TransferPayload(to: to, currency: usd, amount: 1)).canonicalBytes
            bytes[bytes.count - 5] ^= 1
            hex = Hex.encode(bytes)
        default:
            hex = "00ff"
        }
        let e = try await error("tx.submit", ["transaction": .string(hex)])
        if reason == "undecodable" {
            #expect(e.code == -32602)
        } else {
            #expect(e.reason == reason || (reason == "bad_signature" && e.code == -32602), "\(e)")
        }
        #expect(try await result("chain.info")["height"] == "4")
    }

    @Test("account.get: the owner and its bank read it, an outsider and an anonymous reader do not")
    func accounts() async throws {
        let importer = node.chain.importer.publicKey.address.text
        let mine = try await result("account.get", signed(node.chain.importer, "account.get", ["address": .string(importer)]))
        #expect(mine["balances"]?.arrayValue?.first?["text"] == "USD 750,000.00")
        #expect(try await result("account.get", signed(node.chain.issuingBank, "account.get", ["address": .string(importer)]))["role"] == "importer")
        #expect(try await error("account.get", signed(InstantNode.outsider, "account.get", ["address": .string(importer)])).reason == "read_not_allowed")
        #expect(try await error("account.get", ["address": .string(importer)]).reason == "read_not_allowed")
    }

    @Test("signed reads: a wrong signature, a replayed nonce, an expired or too distant expiry, another method's signature are refused")
    func readAuth() async throws {
        let importer = node.chain.importer.publicKey.address.text
        let params: JSONObject = ["address": .string(importer)]
        var replay = params
        replay["auth"] = node.auth(node.chain.importer, "account.get", params, nonce: [UInt8](repeating: 7, count: 16))
        _ = try await result("account.get", replay)
        #expect(try await error("account.get", replay).message.contains("used before"))
        var expired = params
        expired["auth"] = node.auth(node.chain.importer, "account.get", params, expiresIn: 0)
        #expect(try await error("account.get", expired).reason == "bad_read_auth")
        var far = params
        far["auth"] = node.auth(node.chain.importer, "account.get", params, expiresIn: 3_600_000)
        #expect(try await error("account.get", far).reason == "bad_read_auth")
        var otherMethod = params
        otherMethod["auth"] = node.auth(node.chain.importer, "proof.account", params)
        #expect(try await error("account.get", otherMethod).reason == "bad_read_auth")
        var otherParams: JSONObject = ["address": .string(node.chain.exporter.publicKey.address.text)]
        otherParams["auth"] = node.auth(node.chain.importer, "account.get", params)
        #expect(try await error("account.get", otherParams).reason == "bad_read_auth")
        var notJSON = params
        notJSON["auth"] = .object(["public_key": "zz"])
        #expect(try await error("account.get", notJSON).reason == "bad_read_auth")
    }

    @Test("audit.blocks: the stored blocks, certificates and receipts for an auditor, in pages; refused to others")
    func auditBlocks() async throws {
        let page = try await result("audit.blocks", signed(InstantNode.auditor, "audit.blocks", ["from_height": "2", "limit": .int(2)]))
        #expect(page["head_height"] == .string(String(node.chain.ledger.head.height)))
        #expect(page["genesis_hash"] == .string(node.chain.genesis.hash.hex))
        let blocks = try #require(page["blocks"]?.arrayValue)
        #expect(blocks.map { $0["height"] } == ["2", "3"])
        let stored = try #require(try node.chain.ledger.storedBlock(at: 2))
        #expect(blocks[0]["block_hex"] == .string(Hex.encode(stored.block)))
        #expect(blocks[0]["certificate_hex"] == .string(Hex.encode(stored.certificate!)))
        #expect(blocks[0]["receipts_hex"] == .string(Hex.encode(stored.receipts!)))
        let past = try await result("audit.blocks", signed(InstantNode.auditor, "audit.blocks", ["from_height": "99"]))
        #expect(past["blocks"] == .array([]))
        #expect(try await error("audit.blocks", signed(node.chain.importer, "audit.blocks", ["from_height": "1"])).reason == "read_not_allowed")
        #expect(try await error("audit.blocks", ["from_height": "1"]).reason == "read_not_allowed")
        #expect(try await error("audit.blocks", signed(InstantNode.auditor, "audit.blocks", ["from_height": "0"])).code == -32602)
    }

    @Test("lc.get: terms, parties, state and amounts for a party; refused to an outsider; every read in the access log")
    func credit() async throws {
        let credit = JSON.string(node.credit.text)
        let c = try await result("lc.get", signed(node.chain.importer, "lc.get", ["credit": credit]))
        #expect(c["state"] == "issued")
        #expect(c["amounts"]?["amount"]?["text"] == "USD 250,000.00")
        #expect(c["terms"]?["port_of_loading"] == "CNSHA")
        #expect(c["parties"]?.arrayValue?.contains(.string(node.chain.exporter.publicKey.address.text)) == true)
        #expect(c["times"]?["expiry"]?.stringValue?.hasSuffix("Z") == true)
        #expect(try await error("lc.get", signed(InstantNode.outsider, "lc.get", ["credit": credit])).reason == "read_not_allowed")
        #expect(try await error("lc.get", ["credit": credit]).reason == "read_not_allowed")
        _ = try await result("lc.get", signed(InstantNode.auditor, "lc.get", ["credit": credit]))
        #expect(try await error("lc.get", ["credit": .string(node.chain.importer.publicKey.address.text)]).reason == "unknown_credit")

        let log = try await result("access.log", signed(InstantNode.auditor, "access.log", [:]))
        let entries = try #require(log["entries"]?.arrayValue)
        #expect(entries.map { $0["allowed"] } == [true, false, false, true])
        #expect(entries[1]["reader"] == .string(InstantNode.outsider.publicKey.address.text))
        #expect(entries[2]["reader"] == .null)
        #expect(try await error("access.log", signed(node.chain.importer, "access.log", [:])).reason == "read_not_allowed")
    }

    @Test("lc.list finds a party's credits; lc.timeline lists the credit's events in order with heights, times and amounts in words")
    func timeline() async throws {
        try await waitForIndex()
        let exporter = node.chain.exporter.publicKey.address.text
        let list = try await result("lc.list", signed(node.chain.exporter, "lc.list", ["party": .string(exporter)]))
        #expect(list["credits"]?.arrayValue?.first?["credit"] == .string(node.credit.text))
        #expect(try await error("lc.list", signed(InstantNode.outsider, "lc.list", ["party": .string(exporter)])).reason == "read_not_allowed")
        let t = try await result("lc.timeline", signed(node.chain.exporter, "lc.timeline", ["credit": .string(node.credit.text)]))
        let names = try #require(t["events"]?.arrayValue).map { $0["name"]?.stringValue ?? "?" }
        #expect(names == ["Deployed", "Drafted", "Issued", "Advised", "ShippingEvent"], "\(names)")
        let drafted = try #require(t["events"]?.arrayValue?.first { $0["name"] == "Drafted" })
        #expect(drafted["height"] == "1")
        #expect(drafted["fields"]?["amount_text"] == "USD 250,000.00")
        #expect(drafted["fields"]?["beneficiary"] == .string(exporter))
    }

    @Test("events.query: by name and party, paged by cursor without gaps or repeats; over-wide ranges are refused")
    func events() async throws {
        try await waitForIndex()
        let party = node.chain.carrier
        let all = try await result("events.query", signed(party, "events.query", ["credit": .string(node.credit.text)]))
        let events = try #require(all["events"]?.arrayValue)
        var pages: [JSON] = []
        var after: JSON = .null
        repeat {
            var p: JSONObject = ["credit": .string(node.credit.text), "limit": .int(2)]
            if after != .null { p["after"] = after }
            let page = try await result("events.query", signed(party, "events.query", p))
            pages += page["events"]?.arrayValue ?? []
            after = page["next_cursor"] ?? .null
        } while after != .null
        #expect(pages == events)
        let named = try await result("events.query", signed(party, "events.query", ["credit": .string(node.credit.text), "event": "Advised"]))
        #expect(named["events"]?.arrayValue?.count == 1)
        #expect(try await error("events.query", ["credit": .string(node.credit.text)]).reason == "read_not_allowed")
        let anon = try await result("events.query", [:])
        #expect(anon["events"]?.arrayValue?.allSatisfy { $0["emitter"] != .string(node.credit.text) || $0["name"] == "Deployed" } == true)
        var small = RPCLimits()
        small.maxQueryBlocks = 2
        let limited = node.rpc(limits: small)
        let e = try await call(limited, "events.query", ["from_height": "1", "to_height": "4"])
        #expect(e["error"]?["data"]?["limit"] == "max_query_blocks")
        limited.shutdown()
    }

    @Test("contract.call runs a pub fn with named arguments; contract.storage reads a variable and a map entry by the ABI")
    func contracts() async throws {
        let credit = JSON.string(node.credit.text)
        let abi = try await result("contract.abi", ["contract": credit])
        #expect(abi["name"] == "letter_of_credit")
        let input = try await result("contract.encodeCall", ["contract": credit, "function": "waive", "args": .object(["id": .int(1)])])
        #expect(input["input_hex"] == .string(Hex.encode(ABI.encodeCall("waive", [.int(1)]))))
        #expect(try await error("contract.encodeCall", ["contract": credit, "function": "waive", "args": .object(["nope": .int(1)])]).code == -32602)
        let amount = try await result("contract.storage", signed(node.chain.importer, "contract.storage", ["contract": credit, "name": "amount"]))
        #expect(amount["value"] == "25000000")
        let loaded = try await result("contract.storage", signed(node.chain.importer, "contract.storage",
                                                                  ["contract": credit, "name": "bl_loaded_port", "key": "MAEU-1"]))
        #expect(loaded["value"] == "CNSHA")
        #expect(try await error("contract.storage", signed(node.chain.importer, "contract.storage", ["contract": credit, "name": "bl_loaded_port"])).code == -32602)
        #expect(try await error("contract.storage", ["contract": credit, "name": "amount"]).reason == "read_not_allowed")
        #expect(try await error("contract.abi", ["contract": .string(node.chain.importer.publicKey.address.text)]).reason == "not_found")
    }

    @Test("proof.transaction and proof.account verify against the certified header")
    func proofs() async throws {
        let s = try #require(node.snapshot)
        let block = try #require(try s.block(at: 2))
        let hash = block.transactions[0].hash
        let p = try await result("proof.transaction", signed(node.chain.importer, "proof.transaction", ["hash": .string(hash.hex)]))
        let path = try #require(p["transaction_path"]?.arrayValue).compactMap { $0.stringValue.flatMap(Hash.init(hex:)) }
        let root = try #require(p["block"]?["header"]?["transactions_root"]?.stringValue.flatMap(Hash.init(hex:)))
        #expect(MerkleTree.verify(leaf: hash, index: p["index"]!.integer(Int.self)!, size: p["size"]!.integer(Int.self)!, path: path, root: root))
        let importer = node.chain.importer.publicKey.address
        let a = try await result("proof.account", signed(node.chain.importer, "proof.account", ["address": .string(importer.text)]))
        let proof = try SparseMerkleProof(canonicalBytes: try #require(Hex.decode(a["proof"]!["encoded_hex"]!.stringValue!)))
        let account = try #require(Hex.decode(a["account_encoded_hex"]!.stringValue!))
        let stateRoot = try #require(a["block"]?["header"]?["state_root"]?.stringValue.flatMap(Hash.init(hex:)))
        #expect(proof.verify(root: stateRoot, key: StateKey.hash(StateKey.account(importer)), valueHash: SHA256.hash(account)))
    }

    @Test("rpc.discover lists every method of the table, and docs/openrpc.json is that document")
    func discover() async throws {
        let doc = try await result("rpc.discover")
        let names = try #require(doc["methods"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(Set(names) == Set(rpc.server.methodNames).subtracting(["rpc.discover"]))
        let path = repositoryRoot() + "/docs/openrpc.json"
        let committed = try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(committed == doc, "docs/openrpc.json is out of date: regenerate it with `hansa rpc openrpc > docs/openrpc.json`")
    }

    @Test("docs/openrpc.json validates against the OpenRPC 1.3 meta-schema, and a broken copy does not")
    func openRPCValidates() throws {
        func check(_ path: String) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: repositoryRoot() + "/scripts/check-openrpc")
            p.arguments = [path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        #expect(try check(repositoryRoot() + "/docs/openrpc.json") == 0)
        var broken = try #require(try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/docs/openrpc.json"))).objectValue)
        var methods = try #require(broken["methods"]?.arrayValue)
        var first = try #require(methods[0].objectValue)
        first["name"] = nil
        methods[0] = .object(first)
        broken["methods"] = .array(methods)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("broken-openrpc-\(UUID().uuidString).json").path
        try Data(JSON.object(broken).serialized().utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try check(path) == 1)
    }

    @Test("a read-only call that reverts is call_failed with its reason; a node without a snapshot is unavailable")
    func callFailedAndUnavailable() async throws {
        let e = try await error("contract.call", signed(InstantNode.auditor, "contract.call", ["contract": .string(node.credit.text), "function": "advise"]))
        #expect(e.reason == "call_failed" && e.code == RPCError.codeCallFailed, "\(e)")
        #expect(e.message.contains("advising bank"), "\(e.message)")
        struct Starting: RPCNodeService {
            var snapshot: LedgerSnapshot? { nil }
            func nodeInfo() -> RPCNodeInfo { RPCNodeInfo(name: "starting", role: .validator, version: "t") }
            func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash { throw .unavailable("the node is starting") }
            func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)? { nil }
        }
        let starting = HansaRPC(service: Starting(), abis: ABIRegistry([]), accessLog: AccessLog(node: "s"), logger: Logger(label: "t"))
        defer { starting.shutdown() }
        let info = try await call(starting, "chain.info")
        #expect(info["error"]?["data"]?["reason"] == "unavailable")
        let sub = try await call(starting, "tx.submit", ["transaction": .string(Hex.encode(node.signed(node.chain.importer, .transfer,
            TransferPayload(to: node.chain.exporter.publicKey.address, currency: node.chain.dev.usd, amount: 1)).canonicalBytes))])
        #expect(sub["error"]?["code"] == .int(RPCError.codeUnavailable))
    }

    @Test("limits on page sizes and waits are invalid params that name the bound")
    func paramLimits() async throws {
        let e = try await error("events.query", ["limit": .int(RPCLimits().maxPageItems + 1)])
        #expect(e.code == -32602 && e.message.contains("\(RPCLimits().maxPageItems)"), "\(e)")
        #expect(try await error("tx.submit", ["transaction": "00", "wait_ms": .int(RPCLimits().maxWaitMillis + 1)]).code == -32602)
        #expect(try await error("access.log", signed(InstantNode.auditor, "access.log", ["limit": .int(0)])).code == -32602)
    }

    @Test("a credit's transaction read through tx.get goes to the access log, allowed or refused")
    func transactionReadsLogged() async throws {
        let s = try #require(node.snapshot)
        let hash = try #require(try s.block(at: 3)).transactions[0].hash  // advise
        _ = try await result("tx.get", signed(node.chain.advisingBank, "tx.get", ["hash": .string(hash.hex)]))
        #expect(try await error("tx.get", signed(InstantNode.outsider, "tx.get", ["hash": .string(hash.hex)])).reason == "read_not_allowed")
        let entries = try #require(try await result("access.log", signed(InstantNode.auditor, "access.log", [:]))["entries"]?.arrayValue)
        #expect(entries.map { $0["allowed"] } == [true, false])
        #expect(entries.allSatisfy { $0["subject"] == .string(node.credit.text) && $0["method"] == "tx.get" })
    }

    @Test("garbled requests never crash the server: every answer is a JSON-RPC response or nothing")
    func garbled() async throws {
        let seeds = [#"{"jsonrpc":"2.0","method":"block.get","params":{"height":"2","full":true},"id":1}"#,
                     #"[{"jsonrpc":"2.0","method":"events.query","params":{"after":"1.0.0","limit":3},"id":"a"},{"jsonrpc":"2.0","method":"lc.get","params":["hx00"]}]"#,
                     #"{"jsonrpc":"2.0","method":"tx.submit","params":{"transaction":"0a0b","wait_ms":1},"id":null}"#]
        var rng = SplitMix64(seed: 12)
        for i in 0..<1_500 {
            var bytes = Array(seeds[i % seeds.count].utf8)
            for _ in 0..<Int(rng.next() % 4) + 1 {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: at)
                default:
                    let structural = Array("{}[]\",:0-e\\u".utf8)
                    bytes.insert(structural[Int(rng.next() % UInt64(structural.count))], at: at)
                }
            }
            if let answer = await rpc.respond(to: bytes, transport: .http, remote: "fuzz") {
                let j = try JSON.parse(answer)
                let items = j.arrayValue ?? [j]
                #expect(items.allSatisfy { $0["jsonrpc"] == "2.0" && ($0["result"] != nil) != ($0["error"] != nil) }, "\(answer)")
            }
        }
        #expect(try await result("chain.info")["height"] == "4")
    }

    func waitForIndex() async throws {
        for _ in 0..<400 where rpc.heads.height < 4 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(rpc.heads.height >= 4)
    }
}

import HansaTestSupport
