import Foundation

// What several test targets need: the repository's root, the built `hansa` executable, and a
// seeded random generator. A library target used only by tests (Package.swift).

/// The repository root, found from this source file's path.
public func repositoryRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
    }
    preconditionFailure("Package.swift not found above \(file)")
}

/// Why a test support step could not run.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
}

/// The `hansa` executable built beside the test bundle (scripts/test builds it with the tests).
public enum HansaExecutable {
    public static func path() throws -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("hansa").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        let fallback = repositoryRoot() + "/.build/debug/hansa"
        guard FileManager.default.isExecutableFile(atPath: fallback) else {
            throw TestSupportError(description: "the hansa executable is not built next to the tests (run scripts/test, or swift build --build-tests)")
        }
        return fallback
    }

    /// Runs `hansa args` to the end; its exit status, standard output and standard error.
    /// `environment` replaces the inherited one when given.
    public static func run(_ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try path())
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// SplitMix64: a tiny seeded generator, so randomized tests repeat exactly and every failure
/// replays from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
