import ChainTypes
import Foundation
import HansaConfig
import Testing

@Suite("Key files")
struct KeyFileTests {
    @Test func writeThenReadRoundTrips() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = PrivateKey.generate()
        let path = dir + "/k.key"
        try KeyFile.write(key, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let back = try KeyFile.read(path)
        #expect(back.secret == key.secret)
        #expect(back.publicKey == key.publicKey)
    }

    @Test func neverOverwrites() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/k.key"
        let first = PrivateKey.generate()
        try KeyFile.write(first, to: path)
        #expect(throws: ConfigError.refusingToOverwrite(path: path)) { try KeyFile.write(PrivateKey.generate(), to: path) }
        #expect(try KeyFile.read(path).secret == first.secret)
    }

    @Test func refusesFilesOthersCanRead() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/k.key"
        try KeyFile.write(PrivateKey.generate(), to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: ConfigError.insecurePermissions(path: path, mode: 0o644)) { try KeyFile.read(path) }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigError.cannotRead(path: "/nonexistent/x.key", why: "no such file")) {
            try KeyFile.read("/nonexistent/x.key")
        }
    }

    static let key = Fixture.key("kf")
    /// (file content, field named in the error)
    static let badFiles: [(String, String)] = [
        ("{}", "format"),
        ("not json", ""),
        ("{\"format\": \"hansa-key-v9\", \"private_key\": \"00\"}", "format"),
        ("{\"format\": \"hansa-key-v1\"}", "private_key"),
        ("{\"format\": \"hansa-key-v1\", \"private_key\": \"zz\"}", "private_key"),
        ("{\"format\": \"hansa-key-v1\", \"private_key\": \"\(String(repeating: "00", count: 32))\"}", "private_key"),
        ("{\"format\": \"hansa-key-v1\", \"private_key\": \"\(Hex.encode(key.secret))\", \"public_key\": \"\(Fixture.pub("other"))\"}", "public_key"),
        ("{\"format\": \"hansa-key-v1\", \"private_key\": \"\(Hex.encode(key.secret))\", \"address\": \"hx00\"}", "address"),
        ("{\"format\": \"hansa-key-v1\", \"private_key\": \"\(Hex.encode(key.secret))\", \"comment\": \"x\"}", "comment"),
    ]

    @Test(arguments: badFiles)
    func malformedKeyFilesAreRefused(_ content: String, _ field: String) {
        do {
            _ = try KeyFile.decode(Data(content.utf8), file: "k.key")
            Issue.record("accepted: \(content)")
        } catch let ConfigError.field(path, f, _) {
            #expect(path == "k.key")
            #expect(f == field)
        } catch ConfigError.syntax {
            #expect(field.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
