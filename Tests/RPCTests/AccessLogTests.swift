import ChainTypes
import Foundation
import Testing
@testable import RPC

/// The access log on disk: a hash chain checked when the node opens it.
@Suite("Access log file")
struct AccessLogTests {
    static let reader = Address(bytes: [UInt8](repeating: 7, count: 20))!

    func write(_ path: String, _ n: Int) throws {
        let log = try AccessLog(path: path, node: "bank-a")
        for i in 0..<n {
            log.append(reader: Self.reader, role: .auditor, method: "lc.get", subject: "hx\(i)", remote: "127.0.0.1", allowed: i % 2 == 0,
                       nowMillis: 1_796_126_400_000 + Int64(i))
        }
        log.close()
    }

    @Test("reopened, it continues the chain; a changed, removed or reordered line stops the open with the line's number",
          arguments: ["change", "remove", "swap"])
    func tamper(_ how: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(path, 3)
        try write(path, 2)
        let reopened = try AccessLog(path: path, node: "bank-a")
        #expect(reopened.entries(from: 0, limit: 10).count == 5)
        #expect(reopened.entries(from: 4, limit: 10).entries.first?.json["seq"] == .number("4"))
        reopened.close()
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        switch how {
        case "change": lines[2] = lines[2].replacingOccurrences(of: "\"allowed\":true", with: "\"allowed\":false")
        case "remove": lines.remove(at: 1)
        default: lines.swapAt(1, 2)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try AccessLog(path: path, node: "bank-a") } throws: { "\($0)".contains("breaks the hash chain") }
    }

    @Test("an append cut short by a crash (a last line without its newline) is dropped, and the log goes on")
    func tornLastLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(path, 2)
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(#"{"seq":2,"time":"2026-12-0"#.utf8))
        h.closeFile()
        let log = try AccessLog(path: path, node: "bank-a")
        #expect(log.entries(from: 0, limit: 10).count == 2)
        log.append(reader: nil, role: nil, method: "lc.get", subject: "hx", remote: "-", allowed: false, nowMillis: 0)
        log.close()
        #expect(try AccessLog(path: path, node: "bank-a").entries(from: 0, limit: 10).count == 3)
    }
}
