using Gateway.Trust.Accounts;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Users;

/// <summary>
/// The account key's canonical decomposition (carried as a table: the projects build with InvariantGlobalization) against
/// PostgreSQL's own <c>normalize(text, NFD)</c>, which migration 0003 used to rewrite the stored keys: they must agree on
/// every code point, and on marks typed in any order.
/// </summary>
public sealed class AccountEmailAgainstPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task EveryCodePoint_AndMarksInAnyOrder_DecomposeAsPostgresDecomposesThem()
    {
        // Between "x" and "@y" so that neither side trims a space character away.
        var inputs = new List<string>();
        for (int point = 0x80; point <= 0x10FFFF; point++)
            if (point is < 0xD800 or > 0xDFFF) inputs.Add("x" + char.ConvertFromUtf32(point) + "@y");
        string[] bases = ["a", "e", "o", "\u03B9", "\u00C5", "\u1EB9", "\uAC00", "\u0F40"];
        string[] marks = ["\u0301", "\u0300", "\u0323", "\u0316", "\u0327", "\u031B", "\u0345", "\u0338", "\u05B0", "\u093C",
            "\u094D", "\u0E38", "\u0F71", "\u0F72", "\u1DCE", "\u302A", "\u0344", "\u0F73"];
        var random = new Random(20261204);
        for (int i = 0; i < 5000; i++)
            inputs.Add(bases[random.Next(bases.Length)] + string.Concat(Enumerable.Range(0, random.Next(1, 7)).Select(_ => marks[random.Next(marks.Length)])) + "@y");

        await using var conn = new NpgsqlConnection(await postgres.CreateDatabaseAsync("nfd"));
        await conn.OpenAsync();
        var mismatches = new List<string>();
        async Task<List<string>> Nfd(IEnumerable<string> texts)
        {
            await using var cmd = new NpgsqlCommand("SELECT normalize(x, NFD) FROM unnest(@xs) WITH ORDINALITY AS t(x, n) ORDER BY n", conn);
            cmd.Parameters.AddWithValue("xs", texts.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync();
            var result = new List<string>();
            while (await reader.ReadAsync()) result.Add(reader.GetString(0));
            return result;
        }
        foreach (var chunk in inputs.Chunk(50_000))
        {
            // The key decomposes, lowers (invariant casing, ours), and decomposes again: Postgres does both decompositions.
            var expected = await Nfd((await Nfd(chunk)).Select(s => s.ToLowerInvariant()));
            for (int i = 0; i < chunk.Length; i++)
            {
                string actual = AccountEmail.Normalize(chunk[i]);
                if (expected[i] != actual) mismatches.Add($"{Hex(chunk[i])}: postgres {Hex(expected[i])}, ours {Hex(actual)}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {inputs.Count} differ:\n" + string.Join("\n", mismatches.Take(20)));
    }

    private static string Hex(string text) => string.Join(' ', text.EnumerateRunes().Select(r => r.Value.ToString("X4")));
}
