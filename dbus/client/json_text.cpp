#include "dbus/client/json_text.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>

namespace iscsi::dbus::client {
namespace {

// Text goes to a string; with a file, whatever is written is handed on in
// pieces of about 64 KiB, so a megabyte reply never sits in memory twice.
class Writer {
public:
    explicit Writer(std::string& out, std::FILE* file = nullptr) : out_(out), file_(file) {}
    ~Writer() { flush(); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    std::string& text() { return out_; }
    void item_done() {
        if (file_ != nullptr && out_.size() >= kChunk) flush();
    }

private:
    static constexpr size_t kChunk = 64 * 1024;
    void flush() {
        if (file_ == nullptr || out_.empty()) return;
        std::fwrite(out_.data(), 1, out_.size(), file_);  // a short write shows in ferror()
        out_.clear();
    }
    std::string& out_;
    std::FILE* file_;
};

void newline(std::string& out, int depth) {
    out += '\n';
    out.append(static_cast<size_t>(depth) * 2, ' ');
}

template <typename Number>
void append_number(std::string& out, Number value) {
    char text[32];
    auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    out.append(text, ec == std::errc() ? end : text);
}

// RFC 8259 s.7: the quote, the backslash and the control characters are
// escaped; everything else, UTF-8 included (D-Bus strings are valid UTF-8),
// is written as it is.
void append_string(std::string& out, const char* text) {
    static const char kHex[] = "0123456789abcdef";
    out += '"';
    for (const char* p = text; *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

int append_value(sd_bus_message* m, char type, const char* contents, Writer& w, int depth);

template <typename Number>
int append_basic_number(sd_bus_message* m, char type, std::string& out) {
    Number value{};
    int r = sd_bus_message_read_basic(m, type, &value);
    if (r >= 0) append_number(out, value);
    return r;
}

// The items up to the end of the entered container, as a JSON array.
int append_items(sd_bus_message* m, Writer& w, int depth) {
    std::string& out = w.text();
    char type = 0;
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, &type, &contents);
    if (r <= 0) {
        if (r == 0) out += "[]";
        return r;
    }
    out += '[';
    bool first = true;
    for (; r > 0; r = sd_bus_message_peek_type(m, &type, &contents)) {
        if (!first) out += ',';
        first = false;
        newline(out, depth + 1);
        if ((r = append_value(m, type, contents, w, depth + 1)) < 0) return r;
        w.item_done();
    }
    if (r < 0) return r;
    newline(out, depth);
    out += ']';
    return 0;
}

// The entries of an entered dictionary array, as a JSON object.
int append_entries(sd_bus_message* m, const char* entry_contents, Writer& w, int depth) {
    std::string& out = w.text();
    bool first = true;
    int r;
    while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry_contents)) > 0) {
        out += first ? "{" : ",";
        first = false;
        newline(out, depth + 1);
        char key_type = 0;
        const char* key_contents = nullptr;
        if ((r = sd_bus_message_peek_type(m, &key_type, &key_contents)) <= 0) return r < 0 ? r : -EBADMSG;
        if (key_type == SD_BUS_TYPE_STRING || key_type == SD_BUS_TYPE_OBJECT_PATH || key_type == SD_BUS_TYPE_SIGNATURE) {
            const char* key = nullptr;
            if ((r = sd_bus_message_read_basic(m, key_type, &key)) < 0) return r;
            append_string(out, key);
        } else {
            std::string key;
            Writer key_writer(key);
            if ((r = append_value(m, key_type, key_contents, key_writer, 0)) < 0) return r;
            append_string(out, key.c_str());
        }
        out += ": ";
        char value_type = 0;
        const char* value_contents = nullptr;
        if ((r = sd_bus_message_peek_type(m, &value_type, &value_contents)) <= 0) return r < 0 ? r : -EBADMSG;
        if ((r = append_value(m, value_type, value_contents, w, depth + 1)) < 0) return r;
        if ((r = sd_bus_message_exit_container(m)) < 0) return r;
        w.item_done();
    }
    if (r < 0) return r;
    if (first) {
        out += "{}";
    } else {
        newline(out, depth);
        out += '}';
    }
    return 0;
}

int append_value(sd_bus_message* m, char type, const char* contents, Writer& w, int depth) {
    std::string& out = w.text();
    int r;
    switch (type) {
    case SD_BUS_TYPE_BYTE: return append_basic_number<uint8_t>(m, type, out);
    case SD_BUS_TYPE_INT16: return append_basic_number<int16_t>(m, type, out);
    case SD_BUS_TYPE_UINT16: return append_basic_number<uint16_t>(m, type, out);
    case SD_BUS_TYPE_INT32: return append_basic_number<int32_t>(m, type, out);
    case SD_BUS_TYPE_UINT32: return append_basic_number<uint32_t>(m, type, out);
    case SD_BUS_TYPE_INT64: return append_basic_number<int64_t>(m, type, out);
    case SD_BUS_TYPE_UINT64: return append_basic_number<uint64_t>(m, type, out);
    case SD_BUS_TYPE_DOUBLE: return append_basic_number<double>(m, type, out);
    case SD_BUS_TYPE_UNIX_FD: return append_basic_number<int>(m, type, out);
    case SD_BUS_TYPE_BOOLEAN: {
        int value = 0;
        if ((r = sd_bus_message_read_basic(m, type, &value)) >= 0) out += value ? "true" : "false";
        return r;
    }
    case SD_BUS_TYPE_STRING:
    case SD_BUS_TYPE_OBJECT_PATH:
    case SD_BUS_TYPE_SIGNATURE: {
        const char* value = nullptr;
        if ((r = sd_bus_message_read_basic(m, type, &value)) >= 0) append_string(out, value);
        return r;
    }
    case SD_BUS_TYPE_VARIANT: {
        if ((r = sd_bus_message_enter_container(m, type, contents)) < 0) return r;
        char inner = 0;
        const char* inner_contents = nullptr;
        if ((r = sd_bus_message_peek_type(m, &inner, &inner_contents)) <= 0) return r < 0 ? r : -EBADMSG;
        if ((r = append_value(m, inner, inner_contents, w, depth)) < 0) return r;
        return sd_bus_message_exit_container(m);
    }
    case SD_BUS_TYPE_ARRAY:
    case SD_BUS_TYPE_STRUCT: {
        if ((r = sd_bus_message_enter_container(m, type, contents)) < 0) return r;
        if (type == SD_BUS_TYPE_ARRAY && contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN) {
            // "{sv}" -> "sv": what enter_container expects for each entry.
            std::string entry(contents + 1, std::char_traits<char>::length(contents) - 2);
            r = append_entries(m, entry.c_str(), w, depth);
        } else {
            r = append_items(m, w, depth);
        }
        if (r < 0) return r;
        return sd_bus_message_exit_container(m);
    }
    default: return -EINVAL;
    }
}

}  // namespace

int append_arguments_json(sd_bus_message* message, std::string& out) {
    Writer w(out);
    return append_items(message, w, 0);
}

int write_argument_json(sd_bus_message* message, std::FILE* file) {
    char type = 0;
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(message, &type, &contents);
    if (r <= 0) return r < 0 ? r : -ENXIO;
    std::string buffer;
    {
        Writer w(buffer, file);
        if ((r = append_value(message, type, contents, w, 0)) < 0) return r;
        buffer += '\n';
    }
    return std::ferror(file) ? -EIO : 0;
}

}  // namespace iscsi::dbus::client
