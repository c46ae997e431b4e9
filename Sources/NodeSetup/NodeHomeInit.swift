import ChainTypes
import Foundation
import HansaConfig
import PeerTransport
#if canImport(Glibc)
import Glibc
#endif

/// Prepares a node's home directory (`hansa node init`): the node key, a fresh TLS key with a
/// self-signed certificate, `config.toml`, and optionally the genesis.
///
/// Everything is read, checked and generated in memory first, then written into a staging
/// directory and moved into place, so an error leaves the home directory as it was.
public struct NodeHomeInit: Sendable {
    public var home: String
    public var keyFile: String
    public var genesisFile: String?
    public var p2pListen: HostPort?
    public var httpListen: HostPort?
    /// Replace the files a previous init wrote (the new TLS key then needs a new pin).
    public var force = false

    public init(home: String, keyFile: String, genesisFile: String? = nil, p2pListen: HostPort? = nil,
                httpListen: HostPort? = nil, force: Bool = false) {
        self.home = home; self.keyFile = keyFile; self.genesisFile = genesisFile
        self.p2pListen = p2pListen; self.httpListen = httpListen; self.force = force
    }

    /// What init did, for the CLI to print.
    public struct Report: Sendable {
        public let paths: NodePaths
        public let nodeKey: PublicKey
        public let fingerprint: SPKIFingerprint
        public let notValidAfter: Date
        /// With a genesis: what the node is in it.
        public let membership: NodeMembership?
        /// With a genesis: the pin it holds for this node (nil when it holds none).
        public let genesisPin: Hash?
        /// True when a genesis was given and pins exactly this certificate's key.
        public var pinMatches: Bool { genesisPin?.bytes == fingerprint.bytes }
    }

    public func run(now: Date) throws(NodeSetupError) -> Report {
        let key: PrivateKey
        do { key = try KeyFile.read(keyFile) } catch { throw .nodeKey(error) }
        var genesisBytes: Data? = nil
        var membership: NodeMembership? = nil
        var pin: Hash? = nil
        if let genesisFile {
            let genesis: Genesis
            do { genesis = try GenesisFile.read(genesisFile) } catch { throw .genesis(error) }
            guard let m = NodeMembership(nodeKey: key.publicKey, in: genesis) else {
                throw .notInGenesis(address: key.publicKey.address.text, genesisPath: genesisFile)
            }
            membership = m
            pin = m.pin(in: genesis)
            do { genesisBytes = try Data(contentsOf: URL(fileURLWithPath: genesisFile)) } catch {
                throw .genesis(.cannotRead(path: genesisFile, why: error.localizedDescription))
            }
        }
        var config = NodeConfig()
        if let p2pListen { config.p2p.listen = p2pListen }
        if let httpListen { config.httpListen = httpListen }
        let text = config.render()
        // The written file must read back as the same configuration (and pass its checks,
        // e.g. distinct p2p and http addresses).
        do {
            guard try NodeConfig.parse(text, file: "--p2p-listen/--http-listen") == config else {
                preconditionFailure("NodeConfig.render() does not round-trip")
            }
        } catch { throw .config(error) }
        let tls: NodeTLSIdentity
        do { tls = try NodeTLSIdentity.generate(commonName: membership?.name ?? "hansa-node", now: now) } catch {
            throw .invalidTLS(path: NodePaths(home: home, files: config.files).tlsCertificate, why: error.description)
        }
        let paths = NodePaths(home: home, files: config.files)
        var files: [(path: String, data: Data, mode: mode_t)] = [
            (paths.config, Data(text.utf8), 0o644),
            (paths.nodeKey, KeyFile.encode(key), 0o600),
            (paths.tlsKey, Data(tls.privateKeyPEM.utf8), 0o600),
            (paths.tlsCertificate, Data(tls.certificatePEM.utf8), 0o644),
        ]
        if let genesisBytes { files.append((paths.genesis, genesisBytes, 0o644)) }
        try checkExisting(files.map(\.path))
        try StagedWrite(home: home).write(files)
        return Report(paths: paths, nodeKey: key.publicKey, fingerprint: tls.fingerprint, notValidAfter: tls.notValidAfter,
                      membership: membership, genesisPin: pin)
    }

    private func checkExisting(_ targets: [String]) throws(NodeSetupError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: home, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .cannotWrite(path: home, why: "exists and is not a directory")
        }
        let existing = targets.filter { FileManager.default.fileExists(atPath: $0) }
        if !existing.isEmpty && !force {
            throw .refusingToOverwrite(home: home, existing: existing.map(relative))
        }
    }

    private func relative(_ path: String) -> String {
        let prefix = home.hasSuffix("/") ? home : home + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

/// Writes files into a fresh staging directory, then renames them into place; on any failure
/// the staging directory (and a home directory it created) is removed.
struct StagedWrite {
    let home: String

    func write(_ files: [(path: String, data: Data, mode: mode_t)]) throws(NodeSetupError) {
        let fm = FileManager.default
        let createdHome = !fm.fileExists(atPath: home)
        let stage = createdHome ? home + ".init-\(UUID().uuidString)" : (home as NSString).appendingPathComponent(".init-\(UUID().uuidString)")
        do {
            try fm.createDirectory(atPath: stage, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw .cannotWrite(path: stage, why: error.localizedDescription) }
        do {
            for (i, f) in files.enumerated() { try writeNew("\(stage)/\(i)", f.data, mode: f.mode) }
            if createdHome {
                // Lay the files out inside the staging directory, then rename it to be the home.
                try place(files, from: stage, into: stage, homeBeingBuilt: home)
                try rename(stage, home)
            } else {
                try place(files, from: stage, into: home, homeBeingBuilt: home)
                try? fm.removeItem(atPath: stage)
            }
        } catch {
            try? fm.removeItem(atPath: stage)
            throw error
        }
    }

    /// Moves staged file i to its target path (re-rooted under `root`).
    private func place(_ files: [(path: String, data: Data, mode: mode_t)], from stage: String, into root: String,
                       homeBeingBuilt: String) throws(NodeSetupError) {
        let prefix = homeBeingBuilt.hasSuffix("/") ? homeBeingBuilt : homeBeingBuilt + "/"
        for (i, f) in files.enumerated() {
            let target = f.path.hasPrefix(prefix) ? (root as NSString).appendingPathComponent(String(f.path.dropFirst(prefix.count))) : f.path
            let parent = (target as NSString).deletingLastPathComponent
            do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
            catch { throw .cannotWrite(path: parent, why: error.localizedDescription) }
            try rename("\(stage)/\(i)", target)
        }
    }

    private func rename(_ from: String, _ to: String) throws(NodeSetupError) {
        guard Glibc.rename(from, to) == 0 else { throw .cannotWrite(path: to, why: String(cString: strerror(errno))) }
    }

    /// Creates `path` with `mode` (never wider: the mode is given to open, before any byte is written).
    private func writeNew(_ path: String, _ data: Data, mode: mode_t) throws(NodeSetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .cannotWrite(path: path, why: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch { throw .cannotWrite(path: path, why: error.localizedDescription) }
    }
}
