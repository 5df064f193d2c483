namespace IlgpuNorm.Cli;

/// <summary>A table printed with aligned, left-justified columns.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells; got {cells.Length}.", nameof(cells));
        }

        rows.Add(cells);
    }

    public void WriteTo(TextWriter writer, string indent = "")
    {
        int[] widths = new int[headers.Length];
        foreach (string[] row in rows.Prepend(headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (string[] row in rows.Prepend(headers))
        {
            writer.WriteLine(indent + string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
