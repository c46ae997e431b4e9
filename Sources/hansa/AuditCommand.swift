import ArgumentParser
import Audit
import ChainTypes
import Foundation
import HansaClient
import HansaConfig
import HansaCrypto
import RPC

/// `hansa audit`: verify a whole chain from its genesis file alone, or check one fact's proof
/// against a certified header (docs/AUDIT.md).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify a chain's whole history from its genesis file, or prove one fact.",
        discussion: """
        Exit status: 0 verified; 2 a discrepancy (the first is printed with its height and \
        transaction); 3 the source could not be read; 1 anything else (a missing file, a bad flag).
        """,
        subcommands: [Verify.self, Prove.self])

    /// Where the chain is read from: exactly one of a node's home or data directory, a
    /// node's RPC, an archive.
    struct SourceOptions: ParsableArguments {
        @Option(help: "The genesis file you trust (JSON): everything is checked against it.")
        var genesis: String

        @Option(help: "A node's home directory (its data directory is opened read-only; the node may keep running).")
        var home: String?

        @Option(help: "A data directory itself (the data_dir of a node's config.toml).")
        var dataDir: String?

        @Option(help: "An archive written by hansa export.")
        var archive: String?

        @Option(help: "A node's RPC address (needs --key of an auditor or a regulator).")
        var rpc: String?

        @Option(help: "With --rpc: the auditor's or regulator's key file that signs the reads.")
        var key: String?

        func trustedGenesis() throws -> Genesis { try GenesisFile.read(genesis) }

        /// The data directory named by --home (through its config.toml) or --data-dir.
        func dataDirectory() throws -> String? {
            if let dataDir { return dataDir }
            guard let home else { return nil }
            let paths = NodePaths(home: home, files: (try? NodeConfig.read(NodePaths.configPath(home: home)))?.files ?? NodeConfig.Files())
            return paths.dataDirectory
        }

        func count() -> Int { [home ?? dataDir, archive, rpc].compactMap { $0 }.count }

        func open() async throws -> AuditSource {
            guard count() == 1, home == nil || dataDir == nil else {
                throw CLIError("give exactly one source: --home DIR, --data-dir DIR, --archive FILE or --rpc URL")
            }
            if let dir = try dataDirectory() { return try DataDirectorySource(path: dir) }
            if let archive { return try ArchiveSource(path: archive) }
            guard let keyPath = key else { throw CLIError("--rpc needs --key: the whole history is read by auditors and regulators, with signed reads") }
            let client = try await HansaClient.connect(rpc: rpc!, key: try KeyFile.read(keyPath))
            return RPCAuditSource(client: client, name: "the node at \(rpc!)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every block from genesis: certificates, signatures, re-execution and roots.",
            discussion: "Prints a progress bar on a terminal and a summary at the end; --json prints the summary or the discrepancy as JSON.")

        @OptionGroup var source: SourceOptions

        @Option(help: "Threads that check signatures (default: the cores).")
        var threads: Int = ProcessInfo.processInfo.activeProcessorCount

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let genesis: Genesis
            let opened: AuditSource
            do {
                genesis = try source.trustedGenesis()
                opened = try await source.open()
            } catch let e as AuditError {
                throw Self.report(e, json: json)
            }
            let bar = ProgressBar(enabled: !json && isatty(2) != 0)
            let threads = threads
            nonisolated(unsafe) let input = opened  // used by the verifier's thread alone until it resumes us
            let result: Result<Verifier.Summary, AuditError> = await withCheckedContinuation { done in
                // The verifier blocks (and an RPC source waits on the network): off the cooperative pool.
                Thread {
                    do throws(AuditError) {
                        done.resume(returning: .success(try Verifier(genesis: genesis, threads: threads).verify(input) { bar.show($0) }))
                    } catch {
                        done.resume(returning: .failure(error))
                    }
                }.start()
            }
            bar.clear()
            switch result {
            case .failure(let e): throw Self.report(e, json: json)
            case .success(let s):
                if json {
                    Say.json(.object(["verified": .bool(true), "blocks": .string(String(s.blocks)), "transactions": .int(s.transactions),
                                      "scheduled_calls": .int(s.scheduledCalls), "signatures": .int(s.signatures),
                                      "seconds": .string(String(format: "%.3f", s.seconds)), "head_hash": .string(s.headHash.hex),
                                      "state_root": .string(s.stateRoot.hex), "source": .string(input.name)]))
                } else {
                    print("verified \(input.name) against genesis \(genesis.hash.hex.prefix(16))… (\(genesis.chain))")
                    print("  \(s.blocks) blocks, \(s.transactions) transactions, \(s.scheduledCalls) scheduled call\(s.scheduledCalls == 1 ? "" : "s"), \(s.signatures) signatures")
                    print(String(format: "  %.2f s, %.0f transactions/s on %d threads", s.seconds, s.rate, threads))
                    print("  head \(s.headHash.hex)")
                    print("  state root \(s.stateRoot.hex)")
                }
            }
        }

        /// Prints the failure and gives the exit code: 2 a discrepancy, 3 an unreadable source.
        static func report(_ e: AuditError, json: Bool) -> ExitCode {
            switch e {
            case .discrepancy(let d):
                if json {
                    var o: JSONObject = ["verified": .bool(false), "kind": .string(d.kind.rawValue), "height": .string(String(d.height)),
                                         "message": .string(d.message)]
                    if let t = d.transaction { o["transaction"] = .object(["index": .int(t.index), "hash": .string(t.hash.hex)]) }
                    Say.json(.object(o))
                } else {
                    FileHandle.standardError.write(Data("hansa: NOT VERIFIED — \(d)\n".utf8))
                }
                return ExitCode(2)
            case .source(let m):
                FileHandle.standardError.write(Data("hansa: cannot read the source: \(m)\n".utf8))
                return ExitCode(3)
            }
        }
    }
}

/// A one-line progress bar on standard error (only on a terminal).
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    let started = Date()
    private var last = Date.distantPast
    init(enabled: Bool) { self.enabled = enabled }

    func show(_ p: Verifier.Progress) {
        guard enabled, Date().timeIntervalSince(last) > 0.2 || p.height == p.head else { return }
        last = Date()
        let fraction = p.head == 0 ? 1 : Double(p.height) / Double(p.head)
        let width = 30, filled = Int(fraction * Double(width))
        let rate = Double(p.transactions) / max(0.001, Date().timeIntervalSince(started))
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(format: "%3.0f%%  block %llu of %llu  %.0f tx/s ", fraction * 100, p.height, p.head, rate)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 78) + "\r").utf8))
    }
}

/// A node's JSON-RPC as an audit source: `audit.blocks` pages, signed as an auditor or a
/// regulator. The verifier runs on its own thread; each page is fetched while it waits.
final class RPCAuditSource: AuditSource, @unchecked Sendable {
    let client: HansaClient
    let name: String
    private var page: [SourceBlock] = []
    private var nextHeight: UInt64 = 1
    private var head: UInt64?
    private var genesis: Hash?

    init(client: HansaClient, name: String) {
        self.client = client
        self.name = name
    }

    /// Runs an async call from the verifier's thread.
    private func wait<T: Sendable>(_ body: @escaping @Sendable () async throws(ClientError) -> T) throws(AuditError) -> T {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, ClientError>?
        Task {
            do throws(ClientError) { result = .success(try await body()) } catch { result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        switch result! {
        case .success(let v): return v
        case .failure(let e): throw .source("\(name): \(e)")
        }
    }

    private func fetch(from height: UInt64) throws(AuditError) {
        let client = client
        let answer = try wait { () async throws(ClientError) -> JSON in try await client.read("audit.blocks", ["from_height": .string(String(height))]) }
        guard let h = answer["head_height"]?.stringValue.flatMap(UInt64.init), let g = answer["genesis_hash"]?.stringValue.flatMap(Hash.init(hex:)),
              let blocks = answer["blocks"]?.arrayValue else {
            throw .source("\(name) answered audit.blocks without head_height, genesis_hash or blocks")
        }
        if head == nil { head = h }
        genesis = g
        page = []
        for b in blocks {
            guard let at = b["height"]?.stringValue.flatMap(UInt64.init), let block = b["block_hex"]?.stringValue.flatMap({ Hex.decode($0) }) else {
                throw .source("\(name) answered a block without height or block_hex")
            }
            page.append(SourceBlock(height: at, block: block, certificate: b["certificate_hex"]?.stringValue.flatMap { Hex.decode($0) },
                                    receipts: b["receipts_hex"]?.stringValue.flatMap { Hex.decode($0) }))
        }
    }

    func genesisHash() throws(AuditError) -> Hash {
        if genesis == nil { try fetch(from: 1) }
        return genesis!
    }

    func headHeight() throws(AuditError) -> UInt64 {
        if head == nil { try fetch(from: 1) }
        return head!
    }

    func next() throws(AuditError) -> SourceBlock? {
        guard nextHeight <= head ?? 0 else { return nil }
        if page.isEmpty { try fetch(from: nextHeight) }
        guard !page.isEmpty else {
            throw .discrepancy(Discrepancy(.head, height: nextHeight, "\(name) said its head was at \(head ?? 0) but has no block at \(nextHeight)"))
        }
        nextHeight += 1
        return page.removeFirst()
    }
}
