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
        foreach (string key in RequiredKeys)
        {
            if (!dict.ContainsKey(key))
            {
                throw new NpyFormatException($"Header is missing key '{key}' (expected 'descr', 'fortran_order' and 'shape'): {Quote(text)}");
            }
        }

        foreach (string key in dict.Keys)
        {
            if (Array.IndexOf(RequiredKeys, key) < 0)
            {
                throw new NpyFormatException($"Header has unexpected key '{key}' (expected only 'descr', 'fortran_order' and 'shape'): {Quote(text)}");
            }
        }

        string descr = dict["descr"] as string
            ?? throw new NpyFormatException($"Unsupported descr {Describe(dict["descr"])} (structured or non-string dtype); expected <f4, <f2, <f8 or <u2.");
        if (NpyDescr.ItemSize(descr) == 0)
        {
            throw new NpyFormatException(char.ToUpperInvariant(NpyDescr.Unsupported(descr)[0]) + NpyDescr.Unsupported(descr)[1..] + ".");
        }

        switch (dict["fortran_order"])
        {
            case false:
                break;
            case true:
                throw new NpyFormatException("Fortran-order arrays ('fortran_order': True) are not supported; save a C-order array (numpy.ascontiguousarray).");
            default:
                throw new NpyFormatException($"Header value 'fortran_order' must be True or False; got {Describe(dict["fortran_order"])}.");
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
    public static string Format(string descr, ReadOnlySpan<int> shape)
    {
        var text = new StringBuilder("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ");
        AppendTuple(text, shape);
        text.Append(", }");
        if (shape.Length > 0)
        {
            int digits = shape[0].ToString(CultureInfo.InvariantCulture).Length;
            text.Append(' ', GrowthAxisMaxDigits - digits);
        }

        return text.ToString();
    }

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape) => AppendTuple(new StringBuilder(), shape).ToString();

    private static StringBuilder AppendTuple(StringBuilder text, ReadOnlySpan<int> shape)
    {
        text.Append('(');
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        if (shape.Length == 1)
        {
            text.Append(',');
        }

        return text.Append(')');
    }

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
            switch (c)
            {
                case '{':
                    return ParseDict();
                case '(':
                    var items = ParseSequence('(', ')', out bool isTuple);
                    return isTuple ? new PyTuple(items) : items[0];
                case '[':
                    return new PyList(ParseSequence('[', ']', out _));
                case '\'' or '"':
                    return ParseString();
                case '-' or '+' or (>= '0' and <= '9'):
                    return ParseInteger();
                case (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or '_':
                    string name = ParseName();
                    return name switch
                    {
                        "True" => true,
                        "False" => false,
                        "None" => null,
                        _ => throw Error($"unknown name '{name}'"),
                    };
                case '\0':
                    throw Error("the header ends where a value was expected");
                default:
                    throw Error($"unexpected character '{c}'");
            }
        }

        private Dictionary<string, object?> ParseDict()
        {
            Expect('{');
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipWhitespace();
                if (TryTake('}'))
                {
                    return dict;
                }

                if (Peek() is not ('\'' or '"'))
                {
                    throw Error("expected a string key or '}'");
                }

                string key = ParseString();
                SkipWhitespace();
                Expect(':');
                object? value = ParseValue();
                if (!dict.TryAdd(key, value))
                {
                    throw Error($"duplicate key '{key}'");
                }

                SkipWhitespace();
                if (TryTake(','))
                {
                    continue;
                }

                SkipWhitespace();
                Expect('}');
                return dict;
            }
        }

        private List<object?> ParseSequence(char open, char close, out bool isTuple)
        {
            Expect(open);
            var items = new List<object?>();
            bool sawComma = false;
            while (true)
            {
                SkipWhitespace();
                if (TryTake(close))
                {
                    break;
                }

                items.Add(ParseValue());
                SkipWhitespace();
                if (TryTake(','))
                {
                    sawComma = true;
                    continue;
                }

                Expect(close);
                break;
            }

            // (x) is just x in Python; () and (x,) are tuples.
            isTuple = items.Count != 1 || sawComma;
            return items;
        }

        private string ParseString()
        {
            char quote = text[position++];
            var value = new StringBuilder();
            while (true)
            {
                if (position >= text.Length)
                {
                    throw Error("unterminated string");
                }

                char c = text[position++];
                if (c == quote)
                {
                    return value.ToString();
                }

                if (c == '\\')
                {
                    if (position >= text.Length)
                    {
                        throw Error("unterminated string");
                    }

                    c = text[position++];
                }

                value.Append(c);
            }
        }

        private long ParseInteger()
        {
            int start = position;
            if (Peek() is '-' or '+')
            {
                position++;
            }

            while (Peek() is >= '0' and <= '9')
            {
                position++;
            }

            string digits = text[start..position];
            if (Peek() is 'L' or 'l')
            {
                position++; // Python 2 long suffix, written by old NumPy versions
            }

            return long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
                ? value
                : throw Error($"invalid or out-of-range integer '{digits}'", start);
        }

        private string ParseName()
        {
            int start = position;
            while (Peek() is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
            {
                position++;
            }

            return text[start..position];
        }

        private char Peek() => position < text.Length ? text[position] : '\0';

        private bool TryTake(char c)
        {
            if (Peek() != c)
            {
                return false;
            }

            position++;
            return true;
        }

        private void Expect(char c)
        {
            SkipWhitespace();
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
