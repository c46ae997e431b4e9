import ArgumentParser
import Audit
import ChainTypes
import Foundation
import HansaClient
import HansaConfig
import HansaCrypto
import Ledger
import RPC

extension AuditCommand {
    /// `hansa audit prove`: fetches one fact's proof from a node and checks it against a header
    /// whose commit certificate verifies against the genesis file — so the node need not be
    /// trusted: a wrong answer fails the check.
    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch and check an inclusion proof: a transaction and its receipt, an account, or a contract's storage slot.",
            discussion: """
            hansa audit prove tx HASH | account ADDRESS | storage CONTRACT KEY_HEX   --rpc URL --genesis FILE [--key FILE]
            The key signs the read (a party of the fact, an auditor or a regulator). Exit status 0 when the proof checks, 2 when it does not.
            """)

        @Argument(help: "What to prove: tx, account or storage.")
        var kind: String

        @Argument(help: "The transaction hash, the account's address, or the contract's address followed by the slot key in hex.")
        var subjects: [String]

        @Option(help: "The genesis file you trust (JSON).")
        var genesis: String

        @Option(help: "The node's RPC address.")
        var rpc: String

        @Option(help: "The key file that signs the read.")
        var key: String?

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let genesis = try GenesisFile.read(self.genesis)
            let client = try await HansaClient.connect(rpc: rpc, key: try key.map { try KeyFile.read($0) })
            defer { Task { await client.close() } }
            guard client.chain == genesis.binding else {
                throw CLIError("the node at \(rpc) serves chain \(client.chain.id) of genesis \(client.chain.genesisHash.hex), not your genesis file's")
            }
            let answer: JSON
            let check: (BlockHeader, JSON) throws(ProveFailure) -> [String]
            switch (kind, subjects.count) {
            case ("tx", 1):
                guard let hash = Hash(hex: subjects[0]) else { throw CLIError("a transaction hash is 64 hex digits") }
                answer = try await read(client, "proof.transaction", ["hash": .string(hash.hex)])
                check = { h, a throws(ProveFailure) in try Self.checkTransaction(hash, h, a) }
            case ("account", 1):
                let who = try address(subjects[0], "the account")
                answer = try await read(client, "proof.account", ["address": .string(who.text)])
                check = { h, a throws(ProveFailure) in try Self.checkState(StateKey.hash(StateKey.account(who)), valueField: "account_encoded_hex", "account \(who)", h, a) }
            case ("storage", 2):
                let contract = try address(subjects[0], "the contract")
                guard let slot = Hex.decode(subjects[1]) else { throw CLIError("the slot key is hex (docs/CONTRACTS.md: name, or name/ ‖ ABI(key))") }
                answer = try await read(client, "proof.storage", ["contract": .string(contract.text), "key_hex": .string(Hex.encode(slot))])
                check = { h, a throws(ProveFailure) in
                    try Self.checkState(StateKey.hash(StateKey.slot(contract, slot)), valueField: "value_hex", "slot \(subjects[1]) of \(contract)", h, a)
                }
            default:
                throw CLIError("say what to prove: tx HASH, account ADDRESS, or storage CONTRACT KEY_HEX")
            }
            do {
                let (header, signers) = try Self.certifiedHeader(answer["block"], genesis)
                let lines = try check(header, answer)
                if json {
                    Say.json(.object(["verified": .bool(true), "height": .string(String(header.height)), "block_hash": .string(header.hash.hex),
                                      "signers": .array(signers.map { .string($0) }), "facts": .array(lines.map { .string($0) })]))
                } else {
                    for l in lines { print(l) }
                    print("  in block \(header.height) (\(header.hash.hex.prefix(16))…), certified by \(signers.joined(separator: ", "))")
                }
            } catch {
                if json { Say.json(.object(["verified": .bool(false), "reason": .string(error.message)])) }
                FileHandle.standardError.write(Data("hansa: NOT PROVEN — \(error.message)\n".utf8))
                throw ExitCode(2)
            }
        }

        func read(_ client: HansaClient, _ method: String, _ params: JSONObject) async throws -> JSON {
            do { return try await client.read(method, params) } catch {
                FileHandle.standardError.write(Data(("hansa: " + error.description + "\n").utf8))
                throw ExitCode(error.exitCode)
            }
        }

        struct ProveFailure: Error { let message: String; init(_ m: String) { message = m } }

        /// The answer's header, once its certificate verifies against the genesis; and the signers' names.
        static func certifiedHeader(_ block: JSON?, _ genesis: Genesis) throws(ProveFailure) -> (BlockHeader, [String]) {
            guard let block, let hh = block["header_encoded_hex"]?.stringValue.flatMap({ Hex.decode($0) }) else {
                throw ProveFailure("the node gave no certified header (is the chain still at genesis?)")
            }
            guard let ch = block["certificate_encoded_hex"]?.stringValue.flatMap({ Hex.decode($0) }) else {
                throw ProveFailure("the node gave the header without its commit certificate")
            }
            let header: BlockHeader, certificate: CommitCertificate
            do { header = try BlockHeader(canonicalBytes: hh) } catch { throw ProveFailure("the header does not decode: \(error)") }
            do { certificate = try CommitCertificate(canonicalBytes: ch) } catch { throw ProveFailure("the certificate does not decode: \(error)") }
            if let problem = Verifier.certificateProblem(certificate, header: header, genesis: genesis) { throw ProveFailure(problem) }
            return (header, certificate.signers.map { genesis.validators.validators[Int($0.validatorIndex)].name })
        }

        static func hex(_ a: JSON, _ field: String) throws(ProveFailure) -> [UInt8] {
            guard let v = a[field]?.stringValue.flatMap({ Hex.decode($0) }) else { throw ProveFailure("the answer has no \(field)") }
            return v
        }

        static func int(_ a: JSON, _ field: String) throws(ProveFailure) -> Int {
            guard let v = a[field]?.integer(Int.self) else { throw ProveFailure("the answer has no \(field)") }
            return v
        }

        static func path(_ a: JSON, _ field: String) throws(ProveFailure) -> [Hash] {
            guard let items = a[field]?.arrayValue else { throw ProveFailure("the answer has no \(field)") }
            var out: [Hash] = []
            for i in items {
                guard let h = i.stringValue.flatMap(Hash.init(hex:)) else { throw ProveFailure("\(field) holds something that is not a hash") }
                out.append(h)
            }
            return out
        }

        static func checkTransaction(_ hash: Hash, _ header: BlockHeader, _ a: JSON) throws(ProveFailure) -> [String] {
            let txBytes = try hex(a, "transaction_encoded_hex"), receiptBytes = try hex(a, "receipt_encoded_hex")
            guard SHA256.hash(txBytes) == hash else { throw ProveFailure("the transaction the node gave does not hash to \(hash.hex)") }
            let receipt: Receipt
            do { receipt = try Receipt(canonicalBytes: receiptBytes) } catch { throw ProveFailure("the receipt does not decode: \(error)") }
            guard receipt.transactionHash == hash else { throw ProveFailure("the receipt is another transaction's") }
            guard MerkleTree.verify(leaf: hash, index: try int(a, "index"), size: try int(a, "size"), path: try path(a, "transaction_path"),
                                    root: header.transactionsRoot) else {
                throw ProveFailure("the transaction's audit path does not lead to the header's transactions root")
            }
            guard MerkleTree.verify(leaf: SHA256.hash(receiptBytes), index: try int(a, "receipt_index"), size: try int(a, "receipt_count"),
                                    path: try path(a, "receipt_path"), root: header.receiptsRoot) else {
                throw ProveFailure("the receipt's audit path does not lead to the header's receipts root")
            }
            let status: String
            switch receipt.status {
            case .success: status = "succeeded"
            case .failure(let code, let message): status = "failed (\(code): \(message))"
            }
            return ["proven: transaction \(hash.hex) is transaction \(try int(a, "index")) of its block and \(status), \(receipt.gasUsed) gas, \(receipt.events.count) events"]
        }

        static func checkState(_ key: Hash, valueField: String, _ what: String, _ header: BlockHeader, _ a: JSON) throws(ProveFailure) -> [String] {
            guard let rootText = a["state_root"]?.stringValue, let root = Hash(hex: rootText), root == header.stateRoot else {
                throw ProveFailure("the proof's state root is not the certified header's")
            }
            let value: [UInt8]? = a[valueField]?.stringValue.flatMap { Hex.decode($0) }
            guard let proof = a["proof"], let siblings = try? path(proof, "siblings") else { throw ProveFailure("the answer has no proof") }
            var leaf: (key: Hash, valueHash: Hash)?
            if let l = proof["leaf"], l != .null {
                guard let k = l["key"]?.stringValue.flatMap(Hash.init(hex:)), let v = l["value_hash"]?.stringValue.flatMap(Hash.init(hex:)) else {
                    throw ProveFailure("the proof's leaf lacks key or value_hash")
                }
                leaf = (k, v)
            }
            if let problem = StateProof.problem(root: root, key: key, valueHash: value.map { SHA256.hash($0) }, siblings: siblings, leaf: leaf) {
                throw ProveFailure(problem)
            }
            guard let value else { return ["proven: \(what) is absent at the certified state root"] }
            var line = "proven: \(what) holds \(value.count) bytes (value hash \(SHA256.hash(value).hex.prefix(16))…)"
            if valueField == "account_encoded_hex", let account = try? Account(canonicalBytes: value) {
                line += "; nonce \(account.nonce), balances " + account.balances.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            }
            return [line]
        }
    }
}

/// `hansa export`: a chain's history as one portable archive (docs/AUDIT.md "Archive format").
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a chain's blocks, certificates and receipts to an archive that hansa audit verify --archive checks.")

    @OptionGroup var source: AuditCommand.SourceOptions

    @Option(name: .shortAndLong, help: "The archive to write (replaced only once complete).")
    var out: String

    func run() async throws {
        guard source.archive == nil else { throw CLIError("export reads a data directory (--home, --data-dir) or a node (--rpc), not an archive") }
        do {
            let genesis = try source.trustedGenesis()
            nonisolated(unsafe) let input = try await source.open()  // the export's thread alone uses it
            let bar = ProgressBar(enabled: isatty(2) != 0)
            let out = out
            let blocks: Result<UInt64, Error> = await withCheckedContinuation { done in
                Thread {
                    do {
                        done.resume(returning: .success(try Archive.export(from: input, genesis: genesis, to: out) { h, last in
                            bar.show(Verifier.Progress(height: h, head: last, transactions: 0))
                        }))
                    } catch { done.resume(returning: .failure(error)) }
                }.start()
            }
            bar.clear()
            let n = try blocks.get()
            print("exported \(n) blocks of \(genesis.chain) (genesis \(genesis.hash.hex.prefix(16))…) to \(out)")
        } catch let e as AuditError {
            throw AuditCommand.Verify.report(e, json: false)
        }
    }
}
