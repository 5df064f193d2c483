using System.Globalization;
using System.Text;

namespace IlgpuNorm.IO;

/// <summary>
/// The header dict of a <c>.npy</c> file: a Python literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>. Parses the subset of Python
/// literal syntax NumPy writes (strings, True/False/None, integers, tuples, lists, dicts) and formats
/// headers exactly as <c>numpy.save</c> does.
/// </summary>
internal static class NpyHeader
{
    /// <summary>NumPy leaves room for the first axis to grow to this many digits (<c>GROWTH_AXIS_MAX_DIGITS</c>).</summary>
    private const int GrowthAxisMaxDigits = 21;

    private static readonly string[] RequiredKeys = ["descr", "fortran_order", "shape"];

    /// <summary>Parses and checks a header dict: a supported descr, C order, a shape of non-negative ints.</summary>
    /// <exception cref="NpyFormatException">The dict does not parse, lacks or adds keys, or holds an unsupported value.</exception>
    public static (string Descr, int[] Shape) Parse(string text)
    {
        var dict = new Parser(text).ParseHeader();
        if (RequiredKeys.FirstOrDefault(key => !dict.ContainsKey(key)) is { } missing)
        {
            throw new NpyFormatException($"Header is missing key '{missing}' (expected 'descr', 'fortran_order' and 'shape'): {Quote(text)}");
        }

        if (dict.Keys.FirstOrDefault(key => !RequiredKeys.Contains(key)) is { } extra)
        {
            throw new NpyFormatException($"Header has unexpected key '{extra}' (expected only 'descr', 'fortran_order' and 'shape'): {Quote(text)}");
        }

        string descr = dict["descr"] as string
            ?? throw new NpyFormatException($"Unsupported descr {Describe(dict["descr"])} (structured or non-string dtype); expected <f4, <f2, <f8 or <u2.");
        if (NpyDescr.ItemSize(descr) == 0)
        {
            throw new NpyFormatException(NpyDescr.Unsupported(descr));
        }

        if (dict["fortran_order"] is not false)
        {
            throw new NpyFormatException(dict["fortran_order"] is true
                ? "Fortran-order arrays ('fortran_order': True) are not supported; save a C-order array (numpy.ascontiguousarray)."
                : $"Header value 'fortran_order' must be True or False; got {Describe(dict["fortran_order"])}.");
        }

        if (dict["shape"] is not PyTuple tuple)
        {
            throw new NpyFormatException($"Header value 'shape' must be a tuple of ints; got {Describe(dict["shape"])}.");
        }

        int[] shape = new int[tuple.Items.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (tuple.Items[i] is not long dim || dim < 0 || dim > int.MaxValue)
            {
                throw new NpyFormatException($"Header value 'shape' must hold ints in [0, {int.MaxValue}]; got {Describe(tuple.Items[i])} at axis {i}.");
            }

            shape[i] = (int)dim;
        }

        return (descr, shape);
    }

    /// <summary>
    /// The header dict exactly as <c>numpy.save</c> (NumPy 1.24 and later) writes it for a C-order array: keys
    /// sorted, <c>repr</c> of each value, a trailing <c>", }"</c>, then spaces that leave room for the first axis
    /// to grow to 21 digits (none for rank 0). Padding to 64 bytes and the newline are added by the caller.
    /// </summary>
    public static string Format(string descr, ReadOnlySpan<int> shape) =>
        $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {FormatShape(shape)}, }}" +
        (shape.IsEmpty ? string.Empty : new string(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape) =>
        $"({string.Join(", ", shape.ToArray().Select(dim => dim.ToString(CultureInfo.InvariantCulture)))}{(shape.Length == 1 ? "," : string.Empty)})";

    private static string Quote(string header)
    {
        string trimmed = header.TrimEnd();
        return trimmed.Length <= 120 ? trimmed : trimmed[..120] + "…";
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        PyTuple => "a tuple with a non-int item",
        PyList => "a list",
        Dictionary<string, object?> => "a dict",
        _ => value.ToString() ?? "?",
    };

    private sealed record PyTuple(List<object?> Items);

    private sealed record PyList(List<object?> Items);

    /// <summary>Recursive descent over the Python literal subset NumPy headers use.</summary>
    private sealed class Parser(string text)
    {
        private int position;

        public Dictionary<string, object?> ParseHeader()
        {
            SkipWhitespace();
            if (Peek() != '{')
            {
                throw Error("expected '{' at the start of the header dict");
            }

            var dict = (Dictionary<string, object?>)ParseValue()!;
            SkipWhitespace();
            if (position != text.Length)
            {
                throw Error("unexpected text after the closing '}'");
            }

            return dict;
        }

        private object? ParseValue()
        {
            SkipWhitespace();
            char c = Peek();
            if (c is '{' or '(' or '[')
            {
                position++;
                return ParseItems(c);
            }

            if (c is '\'' or '"')
            {
                return ParseString();
            }

            int start = position;
            while (Peek() is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '+')
            {
                position++;
            }

            string word = text[start..position];
            string digits = word.EndsWith('L') || word.EndsWith('l') ? word[..^1] : word; // 12L: Python 2's long, written by old NumPy versions
            return word switch
            {
                "" => throw Error(c == '\0' ? "the header ends where a value was expected" : $"unexpected character '{c}'"),
                "True" => true,
                "False" => false,
                "None" => null,
                _ => long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
                    ? value
                    : throw Error($"unknown name or invalid integer '{word}'", start),
            };
        }

        /// <summary>The items of a dict, tuple or list after its opening bracket; <c>(x)</c> is just x in Python, <c>()</c> and <c>(x,)</c> are tuples.</summary>
        private object? ParseItems(char open)
        {
            char close = open switch { '{' => '}', '(' => ')', _ => ']' };
            var dict = open == '{' ? new Dictionary<string, object?>(StringComparer.Ordinal) : null;
            var items = new List<object?>();
            bool sawComma = false;
            while (!TryTake(close))
            {
                if (dict is null)
                {
                    items.Add(ParseValue());
                }
                else
                {
                    string key = Peek() is '\'' or '"' ? ParseString() : throw Error("expected a string key or '}'");
                    Expect(':');
                    if (!dict.TryAdd(key, ParseValue()))
                    {
                        throw Error($"duplicate key '{key}'");
                    }
                }

                if (!TryTake(','))
                {
                    Expect(close);
                    break;
                }

                sawComma = true;
            }

            return open switch
            {
                '{' => dict,
                '[' => new PyList(items),
                _ => items.Count != 1 || sawComma ? new PyTuple(items) : items[0],
            };
        }

        private string ParseString()
        {
            char quote = text[position++];
            var value = new StringBuilder();
            while (position < text.Length && text[position] != quote)
            {
                position += text[position] == '\\' ? 1 : 0; // an escape: the next character as it is
                if (position < text.Length)
                {
                    value.Append(text[position++]);
                }
            }

            return position++ < text.Length ? value.ToString() : throw Error("unterminated string", position - 1);
        }

        private char Peek() => position < text.Length ? text[position] : '\0';

        private bool TryTake(char c)
        {
            SkipWhitespace();
            if (Peek() != c)
            {
                return false;
            }

            position++;
            return true;
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Error(position >= text.Length ? $"the header ends where '{c}' was expected" : $"expected '{c}'");
            }
        }

        private void SkipWhitespace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private NpyFormatException Error(string problem, int? at = null) =>
            new($"Unparseable header dict: {problem} at offset {at ?? position} in {Quote(text)}");
    }
}
