// The image-folder reader: DIR/<class>/<file>, classes and files in byte order, labels from
// the class order, ids <class>/<stem>, one shape for all, and the errors for what breaks it.

import Foundation
import ImageFiles
import Testing

@Suite struct ImageFolderTests {
    func gray(_ path: String, _ w: Int = 5, _ h: Int = 3, seed: Int) throws {
        try TestImages.writePNG(path, width: w, height: h, colorType: .gray, bitDepth: 8,
                                samples: TestImages.pattern(width: w, height: h, channels: 1, seed: seed).map(Int.init))
    }

    @Test func labelsIdsAndOrder() throws {
        try TestImages.withTemporaryDirectory { dir in
            // Created out of order; names that sort differently by locale than by bytes.
            for c in ["dog", "Cat", "ant"] { try TestImages.mkdir(dir + "/" + c) }
            try gray(dir + "/dog/b.png", seed: 1)
            try gray(dir + "/dog/a.PNG", seed: 2)
            try gray(dir + "/Cat/0002.png", seed: 3)
            try gray(dir + "/Cat/0001.png", seed: 4)
            try gray(dir + "/ant/0001.png", seed: 5)   // same file name as in Cat: ids differ by class
            try TestImages.writeJPEG(dir + "/ant/x.jpeg", width: 5, height: 3, channels: 1,
                                     pixels: [UInt8](repeating: 128, count: 15))
            try Data("notes".utf8).write(to: URL(fileURLWithPath: dir + "/ant/README.txt"))
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/ant/.hidden.png"))
            try TestImages.mkdir(dir + "/ant/nested")
            try Data("about".utf8).write(to: URL(fileURLWithPath: dir + "/LICENSE"))
            try TestImages.mkdir(dir + "/empty")

            let folder = try ImageFolder.read(dir, threads: 3)
            #expect(folder.classNames == ["Cat", "ant", "dog", "empty"])  // byte order: uppercase first
            #expect(folder.items.map(\.id) == ["Cat/0001", "Cat/0002", "ant/0001", "ant/x", "dog/a", "dog/b"])
            #expect(folder.items.map(\.label) == [0, 0, 1, 1, 2, 2])
            #expect(folder.items[4].path == dir + "/dog/a.PNG")
            #expect(folder.shape == ImageShape(height: 3, width: 5, channels: 1))
            #expect(folder.pixels.count == 6 * 15)
            #expect(Array(folder.pixels(of: 0)) == TestImages.pattern(width: 5, height: 3, channels: 1, seed: 4))
            #expect(Array(folder.pixels(of: 5)) == TestImages.pattern(width: 5, height: 3, channels: 1, seed: 1))
            #expect(folder.pixels(of: 3).allSatisfy { abs(Int($0) - 128) <= 2 })
            #expect(Set(folder.skipped) == [dir + "/LICENSE", dir + "/ant/README.txt", dir + "/ant/nested"])

            // The same with one thread: identical.
            let serial = try ImageFolder.read(dir, threads: 1)
            #expect(serial.pixels == folder.pixels && serial.items == folder.items)
        }
    }

    @Test func shapeMismatchNamesTheFirstFileThatDiffers() throws {
        try TestImages.withTemporaryDirectory { dir in
            try TestImages.mkdir(dir + "/a")
            try TestImages.mkdir(dir + "/b")
            try gray(dir + "/a/1.png", seed: 0)
            try gray(dir + "/a/2.png", 5, 4, seed: 0)
            try gray(dir + "/b/1.png", 6, 3, seed: 0)
            expectImageError(path: dir + "/a/2.png", "4 x 5 x 1", "3 x 5 x 1", dir + "/a/1.png", "same shape") {
                _ = try ImageFolder.read(dir)
            }
        }
    }

    @Test func mixedGrayAndColourNeedAChannelPolicy() throws {
        try TestImages.withTemporaryDirectory { dir in
            try TestImages.mkdir(dir + "/a")
            try gray(dir + "/a/g.png", seed: 0)
            let rgb = TestImages.pattern(width: 5, height: 3, channels: 3)
            try TestImages.writePNG(dir + "/a/h.png", width: 5, height: 3, colorType: .rgb, bitDepth: 8, samples: rgb.map(Int.init))
            try TestImages.writeJPEG(dir + "/a/i.jpg", width: 5, height: 3, channels: 3, pixels: rgb)
            expectImageError(path: dir + "/a/h.png", "3 x 5 x 3", "3 x 5 x 1") { _ = try ImageFolder.read(dir) }
            let asRGB = try ImageFolder.read(dir, channels: .rgb)
            #expect(asRGB.shape == ImageShape(height: 3, width: 5, channels: 3))
            #expect(Array(asRGB.pixels(of: 1)) == rgb)
            let asGray = try ImageFolder.read(dir, channels: .gray)
            #expect(asGray.shape == ImageShape(height: 3, width: 5, channels: 1) && asGray.items.count == 3)
        }
    }

    @Test func layoutErrors() throws {
        try TestImages.withTemporaryDirectory { dir in
            expectImageError(path: dir + "/missing", "does not exist") { _ = try ImageFolder.read(dir + "/missing") }
            expectImageError(path: dir, "no class sub-folders") { _ = try ImageFolder.read(dir) }
            try TestImages.mkdir(dir + "/a")
            expectImageError(path: dir, "no .png, .jpg or .jpeg images") { _ = try ImageFolder.read(dir) }
            try gray(dir + "/a/x.png", seed: 0)
            try TestImages.writeJPEG(dir + "/a/x.jpg", width: 5, height: 3, channels: 1, pixels: [UInt8](repeating: 9, count: 15))
            expectImageError(path: dir + "/a/x.png", "'x.png' and 'x.jpg'", "'a/x'") { _ = try ImageFolder.read(dir) }
            try FileManager.default.removeItem(atPath: dir + "/a/x.jpg")
            try gray(dir + "/loose.png", seed: 0)
            expectImageError(path: dir + "/loose.png", "class sub-folders") { _ = try ImageFolder.read(dir) }
            try FileManager.default.removeItem(atPath: dir + "/loose.png")
            try Data("<html>".utf8).write(to: URL(fileURLWithPath: dir + "/a/y.jpg"))
            expectImageError(path: dir + "/a/y.jpg", "not an image") { _ = try ImageFolder.read(dir) }
            try FileManager.default.removeItem(atPath: dir + "/a/y.jpg")
            expectImageError(path: dir + "/a/x.png", "not a directory") { _ = try ImageFolder.read(dir + "/a/x.png") }
            #expect(try ImageFolder.read(dir).items.map(\.id) == ["a/x"])
        }
    }
}
