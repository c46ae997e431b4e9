import ArgumentParser
import ChainTypes
import Foundation
import HansaClient
import HansaConfig
import RPC
import TOMLKit

/// Where the client connects and with which key: flags, else a named profile from the
/// profiles file (`$HANSA_PROFILES`, default `~/.config/hansa/profiles.toml`), else the
/// `default` profile when that file has one (docs/RPC.md "The hansa client").
struct ClientOptions: ParsableArguments {
    @Option(help: "The node's RPC address, e.g. http://127.0.0.1:26680.")
    var rpc: String?

    @Option(help: "The key file to sign with (hansa keygen writes one).")
    var key: String?

    @Option(help: "A profile in the profiles file that names rpc and key.")
    var profile: String?

    @Flag(help: "Print the node's answers as JSON (for scripts) instead of sentences.")
    var json = false

    @Option(help: "Seconds to wait for a transaction to commit.")
    var wait: Int = 30

    static var profilesPath: String {
        ProcessInfo.processInfo.environment["HANSA_PROFILES"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".config/hansa/profiles.toml")
    }

    /// The rpc address and key file after flags and profile.
    func resolved() throws(ClientError) -> (rpc: String, key: String?) {
        var rpc = self.rpc, key = self.key
        let path = Self.profilesPath
        let name = profile ?? (FileManager.default.fileExists(atPath: path) ? "default" : nil)
        if let name {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                if profile != nil { throw .local("profile \(name): cannot read \(path)") }
                return (try require(rpc), key)
            }
            let table: TOMLTable
            do { table = try TOMLTable(string: text) } catch { throw .local("\(path) is not TOML: \(error)") }
            if let p = table[name]?.table {
                let base = (path as NSString).deletingLastPathComponent
                rpc = rpc ?? p["rpc"]?.string
                if key == nil, let k = p["key"]?.string { key = k.hasPrefix("/") ? k : (base as NSString).appendingPathComponent(k) }
            } else if profile != nil {
                throw .local("\(path) has no profile [\(name)]")
            }
        }
        return (try require(rpc), key)
    }

    private func require(_ rpc: String?) throws(ClientError) -> String {
        guard let rpc else { throw .local("say which node: --rpc http://HOST:PORT, or a profile (\(Self.profilesPath))") }
        return rpc
    }

    /// Connects, with the key when one is given.
    func connect(needsKey: Bool = false, onNotification: @escaping @Sendable (JSON) -> Void = { _ in },
                 onClose: @escaping @Sendable (ClientError) -> Void = { _ in }) async throws(ClientError) -> HansaClient {
        let (rpc, keyPath) = try resolved()
        var key: PrivateKey? = nil
        if let keyPath {
            do { key = try KeyFile.read(keyPath) } catch { throw .local("\(error)") }
        } else if needsKey {
            throw .local("this command signs: give --key FILE (or a profile with a key)")
        }
        return try await HansaClient.connect(rpc: rpc, key: key, onNotification: onNotification, onClose: onClose)
    }

    var waitMillis: Int { max(1, min(wait, 60)) * 1000 }
}

/// Runs a client command: one sentence on standard error and the documented exit code for
/// every failure (1 local, 2 refused by the node, 3 node unreachable, 4 not committed in time).
func runClient(_ body: () async throws(ClientError) -> Void) async throws {
    do { try await body() } catch {
        FileHandle.standardError.write(Data(("hansa: " + error.description + "\n").utf8))
        throw ExitCode(error.exitCode)
    }
}

/// How answers are printed: sentences for people, or JSON.
enum Say {
    static func json(_ v: JSON) { print(pretty(v)) }

    /// A committed transaction in words: block, hash, then each event on its own line.
    static func committed(_ what: String, _ answer: JSON) {
        print("\(what): committed in block \(answer["height"]?.stringValue ?? "?") (transaction \(answer["hash"]?.stringValue?.prefix(16) ?? "?")…)")
        if let receipt = answer["receipt"], receipt["status"] != "success" {
            print("  the transaction ran but failed: \(receipt["error"]?.stringValue ?? "no reason given")")
        }
        for e in answer["receipt"]?["events"]?.arrayValue ?? [] { print("  " + event(e)) }
    }

    /// One event: its name and fields (`Paid  id 1, to hx…, amount USD 250,000.00`).
    static func event(_ e: JSON) -> String {
        let name = e["name"]?.stringValue ?? "event " + (e["topics"]?.arrayValue?.first?.stringValue?.prefix(12) ?? "?")
        guard let fields = e["fields"]?.objectValue else { return name }
        let parts = fields.keys.filter { !$0.hasSuffix("_text") && !$0.hasSuffix("_iso") }.map { k -> String in
            let v = fields[k + "_text"] ?? fields[k + "_iso"] ?? fields[k]!
            return "\(k) \(plain(v))"
        }
        return name + (parts.isEmpty ? "" : "  " + parts.joined(separator: ", "))
    }

    static func plain(_ v: JSON) -> String {
        switch v {
        case .string(let s): s
        case .object(let o) where o["text"] != nil: o["text"]!.stringValue ?? "\(v)"
        case .object(let o) where o["hex"] != nil: "0x" + (o["hex"]!.stringValue ?? "")
        default: v.serialized()
        }
    }
}

/// Parses an address option.
func address(_ text: String, _ what: String) throws(ClientError) -> Address {
    guard let a = Address(text: text) else { throw .local("\(what) must be an address: hx followed by 40 hex digits") }
    return a
}
