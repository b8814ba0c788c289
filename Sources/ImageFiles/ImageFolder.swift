// A labelled image folder, the usual image-folder convention:
//
//     DIR/<class>/<file>.png|.jpg|.jpeg
//
// - Classes are DIR's sub-folders, sorted by name (byte order of their UTF-8 names, as
//   `LC_ALL=C ls`); class i gets label i. A sub-folder without images is still a class.
// - Files are sorted the same way within each class; items come class by class.
// - An item's id is `<class>/<file name without extension>`, its path relative to DIR without
//   the extension: unique by construction across classes, so folders that repeat file names in
//   every class (0001.png, 0002.png, ...) work. Two files of one class that differ only in
//   their extension (a.png and a.jpg) would share an id: that is an error naming both.
// - Only .png, .jpg and .jpeg (any case) are read; the format is checked from the bytes. Other
//   files, and folders inside class folders, are skipped (and listed in `skipped`); names
//   starting with '.' are ignored. Image files directly in DIR are an error: they have no class.
// - Every image must have the same height x width x channels: the first one that differs is an
//   error naming it, its shape and the first image's shape. Nothing is resized; a channel policy
//   (ChannelPolicy.gray or .rgb) makes gray and colour files agree.

import Dispatch
import Foundation

public struct ImageFolder: Sendable {
    public struct Item: Sendable, Equatable {
        /// `<class>/<file name without extension>`.
        public var id: String
        /// The index of the class in `classNames`.
        public var label: Int
        /// The file's path (DIR joined with `<class>/<file>`).
        public var path: String

        public init(id: String, label: Int, path: String) {
            self.id = id
            self.label = label
            self.path = path
        }
    }

    /// What a folder holds, before decoding.
    public struct Listing: Sendable {
        public var classNames: [String]
        public var items: [Item]
        /// Paths of entries that were not read (not .png/.jpg/.jpeg, or folders inside classes).
        public var skipped: [String]
    }

    public var classNames: [String]
    public var items: [Item]
    /// The shape every image has.
    public var shape: ImageShape
    /// items.count x shape.count bytes, item after item, each in HWC order.
    public var pixels: [UInt8]
    public var skipped: [String]

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The bytes of item i (HWC).
    public func pixels(of i: Int) -> ArraySlice<UInt8> {
        pixels[(i * shape.count)..<((i + 1) * shape.count)]
    }

    /// Lists and decodes every image (on up to `threads` threads; the result and any error are
    /// the same whatever the count: errors are those of the first bad file in listing order).
    public static func read(_ root: String, channels: ChannelPolicy = .asStored,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> ImageFolder {
        let listing = try list(root)
        let images = try decodeAll(listing.items.map(\.path), channels: channels, threads: threads)
        let shape = images[0].shape
        if let bad = images.firstIndex(where: { $0.shape != shape }) {
            throw ImageFileError("image of \(images[bad].shape) (height x width x channels) differs from the "
                                 + "\(shape) of \(listing.items[0].path); every image must have the same shape "
                                 + "(images are not resized)", path: listing.items[bad].path)
        }
        var pixels = [UInt8]()
        pixels.reserveCapacity(images.count * shape.count)
        for image in images { pixels += image.pixels }
        return ImageFolder(classNames: listing.classNames, items: listing.items, shape: shape, pixels: pixels,
                           skipped: listing.skipped)
    }

    /// The classes and items of a folder, without decoding anything.
    public static func list(_ root: String) throws -> Listing {
        let fm = FileManager.default
        guard isDirectory(root) else {
            throw ImageFileError(fm.fileExists(atPath: root) ? "not a directory (an image folder holds one sub-folder per class)"
                                                             : "directory does not exist", path: root)
        }
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        var classNames: [String] = []
        var skipped: [String] = []
        for name in try entries(of: root) {
            let path = base + "/" + name
            if isDirectory(path) {
                classNames.append(name)
            } else if isImageName(name) {
                throw ImageFileError("image directly in the folder: images must be in class sub-folders (\(base)/<class>/<file>)", path: path)
            } else {
                skipped.append(path)
            }
        }
        guard !classNames.isEmpty else {
            throw ImageFileError("no class sub-folders: an image folder holds one sub-folder per class (\(base)/<class>/<file>.png|jpg|jpeg)", path: root)
        }
        var items: [Item] = []
        for (label, className) in classNames.enumerated() {
            let classPath = base + "/" + className
            var byID: [String: String] = [:]
            for name in try entries(of: classPath) {
                let path = classPath + "/" + name
                guard isImageName(name), !isDirectory(path) else { skipped.append(path); continue }
                let stem = String(name[..<name.lastIndex(of: ".")!])
                let id = className + "/" + stem
                if let other = byID[id] {
                    throw ImageFileError("'\(name)' and '\(URL(fileURLWithPath: other).lastPathComponent)' would both have the id '\(id)' "
                                         + "(ids are <class>/<file name without extension>); rename one", path: path)
                }
                byID[id] = path
                items.append(Item(id: id, label: label, path: path))
            }
        }
        guard !items.isEmpty else {
            throw ImageFileError("no .png, .jpg or .jpeg images in any of the \(classNames.count) class sub-folders", path: root)
        }
        return Listing(classNames: classNames, items: items, skipped: skipped)
    }

    // MARK: Helpers

    static func isImageName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return imageExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    /// Names in `path` without hidden ones, in byte order of their UTF-8 spelling.
    private static func entries(of path: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw ImageFileError("cannot list directory: \(error.localizedDescription)", path: path)
        }
        return names.filter { !$0.hasPrefix(".") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private static func decodeAll(_ paths: [String], channels: ChannelPolicy, threads: Int) throws -> [Image] {
        // Each slot is written by exactly one iteration and read after all have finished.
        var results = [Result<Image, Error>?](repeating: nil, count: paths.count)
        let workers = max(1, min(threads, paths.count))
        let perWorker = (paths.count + workers - 1) / workers
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in (w * perWorker)..<min((w + 1) * perWorker, paths.count) {
                    out[i] = Result { try ImageDecoder.read(paths[i], channels: channels) }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}
