import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// The u32 big-endian length prefix and its named maximum, on an embedded channel (no sockets).
@Suite("Framing")
struct FramingTests {
    let max = Fixture.maxFrameBytes

    func decoderChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: max)))
        return channel
    }

    func frame(_ body: [UInt8], declaredLength: UInt32? = nil) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(declaredLength ?? UInt32(body.count))
        b.writeBytes(body)
        return b
    }

    @Test("a frame split across reads comes out whole, once")
    func reassembly() throws {
        let channel = try decoderChannel()
        defer { _ = try? channel.finish() }
        var wire = frame([1, 2, 3, 4, 5])
        let head = wire.readSlice(length: 3)!
        try channel.writeInbound(head)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(wire)
        let body = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(Array(body.readableBytesView) == [1, 2, 3, 4, 5])
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test("two frames in one read come out as two")
    func twoInOne() throws {
        let channel = try decoderChannel()
        defer { _ = try? channel.finish() }
        var wire = frame([7])
        var second = frame([8, 9])
        wire.writeBuffer(&second)
        try channel.writeInbound(wire)
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [7])
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [8, 9])
    }

    @Test("a frame of exactly the maximum is accepted")
    func atMaximum() throws {
        let channel = try decoderChannel()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(frame([UInt8](repeating: 0xAB, count: max)))
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == max)
    }

    @Test("a length over the maximum is refused from the header alone, before the body arrives")
    func oversize() throws {
        let channel = try decoderChannel()
        defer { _ = try? channel.finish() }
        var header = ByteBuffer()
        header.writeInteger(UInt32(max + 1))
        #expect(throws: PeerTransportError.frameTooLarge(bytes: max + 1, maxFrameBytes: max)) {
            try channel.writeInbound(header)
        }
    }

    @Test("a zero length is refused")
    func empty() throws {
        let channel = try decoderChannel()
        defer { _ = try? channel.finish() }
        #expect(throws: PeerTransportError.emptyFrame) { try channel.writeInbound(frame([])) }
    }

    @Test("the encoder writes the length then the body, and refuses a body over the maximum")
    func encoder() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder(maxFrameBytes: max)))
        try channel.writeOutbound(ByteBuffer(bytes: [9, 8, 7]))
        let wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(wire.readableBytesView) == [0, 0, 0, 3, 9, 8, 7])
        #expect(throws: PeerTransportError.frameTooLarge(bytes: max + 1, maxFrameBytes: max)) {
            try channel.writeOutbound(ByteBuffer(repeating: 0, count: max + 1))
        }
    }

    @Test("the maximum is derived from the genesis block limit")
    func derivedMaximum() {
        #expect(FrameLimits.maxFrameBytes(maxBlockBytes: 4 * 1024 * 1024) == 4 * 1024 * 1024 + FrameLimits.overheadBytes)
    }
}
