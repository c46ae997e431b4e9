import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import HansaTestSupport
import Ledger
import Logging
import Node
import PeerTransport
import NIOCore
import NIOPosix

/// Four validators and an auditor's observer as separate `hansa node run` processes on
/// 127.0.0.1, set up the way an operator does it: `hansa keygen`-style key files, `hansa node
/// init` per home (which prints the TLS pin), a genesis template with those pins built by
/// `hansa genesis`, copied into each home. The test itself joins as a second observer
/// ("load-client", pinned in the same genesis): it submits transactions along the path a
/// client's takes and watches every validator's head through their status messages.
///
/// Every process it starts is killed when the network is stopped (and on deinit).
final class ProcessNetwork: @unchecked Sendable {
    let root: String
    let hansa: String
    /// Ports in genesis validator order (like `homes`); the HTTP ports follow `homes` too.
    private(set) var p2pPorts: [Int]
    private(set) var httpPorts: [Int]
    /// Home directories: validators 0–3 in genesis validator order, then the observer (4).
    let homes: [String]
    let names: [String]
    let dev: DevChain
    let genesisPath: String
    let clientKey = PrivateKey.generate()
    let clientTLS: NodeTLSIdentity
    var client: NodeRuntime?
    private(set) var processes: [Process?]
    var nonces: [Int: UInt64] = [:]
    static let observer = 4

    /// The trade parties of `trade: true`, by name: importer, exporter, carrier, other-carrier
    /// (registered, but not the one a credit names), auditor, outsider (each with a key file in `root/keys/<name>.key`).
    private(set) var traders: [String: PrivateKey] = [:]

    /// `trade`: genesis also names an importer (USD 1,000,000.00 at bank-0), an exporter (at
    /// bank-1), a carrier, an auditor and an outsider, and every home gets the letter of
    /// credit's ABI in `abi/` (as `hansa contract compile` writes it) for the RPC.
    init(users: Int = 8, trade: Bool = false) throws {
        hansa = try HansaExecutable.path()
        root = NSTemporaryDirectory() + "hansa-procs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/keys", withIntermediateDirectories: true)
        let ports = try LoopbackPorts.free(9)
        p2pPorts = Array(ports[0..<4])
        httpPorts = Array(ports[4..<9])
        let bankKeys = (0..<4).map { _ in PrivateKey.generate() }
        let observerKey = PrivateKey.generate()
        let userKeys = (0..<users).map { _ in PrivateKey.generate() }
        clientTLS = try NodeTLSIdentity.generate(commonName: "load-client", now: Date())

        // One home per node; `hansa node init` prints the pin on its last line.
        var pins: [String] = []
        var homesByBank: [String] = []
        for (i, key) in (bankKeys + [observerKey]).enumerated() {
            let name = i < 4 ? "bank-\(i)" : "auditor-node"
            try KeyFile.write(key, to: "\(root)/keys/\(name).key")
            let home = "\(root)/\(name)"
            var args = ["node", "init", "--home", home, "--key", "\(root)/keys/\(name).key",
                        "--http-listen", "127.0.0.1:\(httpPorts[i])"]
            if i < 4 { args += ["--p2p-listen", "127.0.0.1:\(p2pPorts[i])"] }
            let r = try HansaExecutable.run(args)
            guard r.status == 0, let pin = r.out.split(separator: "\n").last.map(String.init), pin.count == 64 else {
                throw ProcessNetworkError("hansa node init failed: \(r.err)\(r.out)")
            }
            pins.append(pin)
            homesByBank.append(home)
        }
        var template = "chain_id = \"procs-test\"\n\n"
        for i in 0..<4 {
            template += "[[validators]]\nname = \"bank-\(i)\"\nkey = \"bank-\(i)\"\np2p_address = \"127.0.0.1:\(p2pPorts[i])\"\ntls_spki_sha256 = \"\(pins[i])\"\n\n"
        }
        template += "[[observers]]\nname = \"auditor-node\"\nrole = \"auditor\"\nkey = \"auditor-node\"\ntls_spki_sha256 = \"\(pins[4])\"\n\n"
        template += "[[observers]]\nname = \"load-client\"\nrole = \"auditor\"\npublic_key = \"\(clientKey.publicKey.hex)\"\ntls_spki_sha256 = \"\(clientTLS.fingerprint.hex)\"\n\n"
        for (u, key) in userKeys.enumerated() {
            template += "[[participants]]\nname = \"user-\(u)\"\nrole = \"exporter\"\npublic_key = \"\(key.publicKey.hex)\"\nbank = \"bank-0\"\n\n"
        }
        var traders: [String: PrivateKey] = [:]
        if trade {
            for (name, role, bank) in [("importer", "importer", "bank-0"), ("exporter", "exporter", "bank-1"), ("carrier", "carrier", nil),
                                       ("other-carrier", "carrier", nil), ("auditor", "auditor", nil), ("outsider", "exporter", nil)] as [(String, String, String?)] {
                let key = PrivateKey.generate()
                traders[name] = key
                try KeyFile.write(key, to: "\(root)/keys/\(name).key")
                template += "[[participants]]\nname = \"\(name)\"\nrole = \"\(role)\"\npublic_key = \"\(key.publicKey.hex)\"\n"
                    + (bank.map { "bank = \"\($0)\"\n" } ?? "") + "\n"
            }
        }
        template += "[[currencies]]\ncode = \"USD\"\ndecimals = 2\nissuers = [\"bank-0\"]\n\n"
        for u in 0..<users { template += "[[deposits]]\naccount = \"user-\(u)\"\ncurrency = \"USD\"\namount = \"100000.00\"\n\n" }
        if trade { template += "[[deposits]]\naccount = \"importer\"\ncurrency = \"USD\"\namount = \"1000000.00\"\n\n" }
        try template.write(toFile: "\(root)/genesis.toml", atomically: true, encoding: .utf8)
        genesisPath = "\(root)/genesis.json"
        let g = try HansaExecutable.run(["genesis", "\(root)/genesis.toml", "--keys-dir", "\(root)/keys", "--out", genesisPath])
        guard g.status == 0 else { throw ProcessNetworkError("hansa genesis failed: \(g.err)") }
        for home in homesByBank { try FileManager.default.copyItem(atPath: genesisPath, toPath: "\(home)/genesis.json") }
        if trade {
            let source = repositoryRoot() + "/contracts/letter_of_credit.hc"
            for home in homesByBank {
                let c = try HansaExecutable.run(["contract", "compile", source, "-o", "\(home)/abi"])
                guard c.status == 0 else { throw ProcessNetworkError("hansa contract compile failed: \(c.err)") }
            }
        }
        self.traders = traders

        let genesis = try GenesisFile.read(genesisPath)
        // Validator order is the genesis order (by address), not the order the keys were made.
        let order = genesis.validators.validators.map { v in bankKeys.firstIndex { $0.publicKey == v.publicKey }! }
        homes = order.map { homesByBank[$0] } + [homesByBank[4]]
        let (p2p, http) = (p2pPorts, httpPorts)
        p2pPorts = order.map { p2p[$0] }
        httpPorts = order.map { http[$0] } + [http[4]]
        names = order.map { "bank-\($0)" } + ["auditor-node"]
        dev = DevChain(genesis: genesis, validatorKeys: order.map { bankKeys[$0] }, userKeys: userKeys)
        processes = Array(repeating: nil, count: 5)
    }

    deinit { for p in processes { if let p, p.isRunning { kill(p.processIdentifier, SIGKILL) } } }

    var logs: String { root + "/logs" }

    /// Starts node `i` (0–3 validators in genesis order, 4 the observer) as a process.
    func start(_ i: Int) throws {
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let log = "\(logs)/\(names[i]).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: hansa)
        p.arguments = ["node", "run", "--home", homes[i]]
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        processes[i] = p
    }

    func startAll() async throws {
        for i in 0..<5 { try start(i) }
        try await startClient()
    }

    /// The test's own observer: the path a client's transactions take into the network.
    func startClient() async throws {
        var logger = Logger(label: "hansa.test.client")
        logger.logLevel = TestNetwork.logger.logLevel
        let settings = NodeSettings(genesis: dev.genesis, nodeKey: clientKey, tls: clientTLS, dataDirectory: "\(root)/client",
                                    p2pListen: PeerAddress(host: "127.0.0.1", port: 0),
                                    redial: .init(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), stableAfter: .seconds(11)),
                                    logger: logger)
        client = try await NodeRuntime.start(settings)
    }

    /// Runs `hansa ARGS` to its end (killed after `seconds`); the status (nil when killed) and stderr.
    func runOnce(_ args: [String], seconds: Double = 20) async throws -> (status: Int32?, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: hansa)
        p.arguments = args
        let errPath = "\(root)/run-\(UUID().uuidString.prefix(6)).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        let killed = p.isRunning
        if killed { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (killed ? nil : p.terminationStatus, err)
    }

    /// kill -9.
    func kill9(_ i: Int) {
        guard let p = processes[i] else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        processes[i] = nil
    }

    /// SIGTERM, then the exit status (nil if it did not exit within `seconds`).
    func terminate(_ i: Int, seconds: Double = 20) async -> Int32? {
        guard let p = processes[i] else { return nil }
        p.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard !p.isRunning else { return nil }
        processes[i] = nil
        return p.terminationStatus
    }

    func stopAll() async {
        await client?.stop()
        client = nil
        for i in processes.indices { kill9(i) }
    }

    /// Removes the temporary folder (keep it when a test failed: `HANSA_KEEP=1`).
    func clean() {
        if ProcessInfo.processInfo.environment["HANSA_KEEP"] == nil { try? FileManager.default.removeItem(atPath: root) }
    }

    func transfer(from: Int, to: Int, amount: UInt64 = 100) -> Transaction {
        let n = nonces[from, default: 0]
        nonces[from] = n + 1
        return dev.transfer(from: from, to: to, amount: amount, nonce: n)
    }

    /// Submits through the client and waits for the receipt.
    func commit(from: Int, to: Int, timeout: Duration = .seconds(60)) async throws -> CommittedReceipt {
        guard let client else { throw ProcessNetworkError("the client is not running") }
        let h = try await client.submit(transfer(from: from, to: to))
        guard let r = await client.receipt(of: h, timeout: timeout) else {
            throw ProcessNetworkError("transaction \(h.hex.prefix(12)) did not commit: \(describe())")
        }
        return r
    }

    /// The head validator `i` last reported to the client.
    func height(_ i: Int) -> UInt64? { client?.status?.peerHeights[names[i]] }

    func log(_ i: Int) -> String { (try? String(contentsOfFile: "\(logs)/\(names[i]).log", encoding: .utf8)) ?? "" }

    func describe() -> String {
        let heights = (0..<4).map { "\(names[$0])=\(height($0).map(String.init) ?? "?")" }.joined(separator: " ")
        return "client at \(client?.status?.height ?? 0); validators \(heights); logs in \(logs)"
    }

    /// Waits (polling, up to `seconds`) until `condition` holds.
    func eventually(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}

struct ProcessNetworkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A plain HTTP/1.1 GET over NIO (Connection: close): status code and body.
enum TinyHTTP {
    final class Collect: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        let done: EventLoopPromise<[UInt8]>
        init(done: EventLoopPromise<[UInt8]>) { self.done = done }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var b = unwrapInboundIn(data)
            bytes += b.readBytes(length: b.readableBytes) ?? []
        }
        func channelInactive(context: ChannelHandlerContext) { done.succeed(bytes) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    static func get(port: Int, path: String) async throws -> (status: Int, body: String) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        let done = group.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collect(done: done)) } }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        let text = String(decoding: try await done.futureResult.get(), as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }
}
