using Gateway.Trust.Accounts;

namespace Trust.Tests;

/// <summary>
/// The form an account's email is keyed on. Every code point is checked against PostgreSQL's normalize(text, NFD) in
/// Backend.Tests (AccountEmailAgainstPostgresTests); these pin the cases the key exists for.
/// </summary>
public sealed class AccountEmailTests
{
    private const string Composed = "jos\u00E9@example.com";       // é as one code point
    private const string Decomposed = "jose\u0301@example.com";    // e + combining acute

    [Fact]
    public void ComposedAndDecomposedSpellings_AreOneAddress()
    {
        Assert.NotEqual(Composed, Decomposed);
        Assert.Equal(Decomposed, AccountEmail.Normalize(Composed));
        Assert.Equal(Decomposed, AccountEmail.Normalize(Decomposed));
        Assert.Equal(Decomposed, AccountEmail.Normalize("  JOS\u00C9@Example.COM "));
        Assert.Equal(AccountEmail.Normalize("\u212Bngstr\u00F6m@x.example"), AccountEmail.Normalize("\u00C5ngstro\u0308m@x.example"));
    }

    [Fact]
    public void CombiningMarks_AreKeyedInCanonicalOrder_WhateverOrderTheyWereTyped()
    {
        // Dot below (class 220) sorts before acute (230); marks of one class keep their order.
        Assert.Equal("e\u0323\u0301", AccountEmail.Normalize("e\u0301\u0323"));
        Assert.Equal("e\u0323\u0301", AccountEmail.Normalize("\u1EB9\u0301"));
        Assert.Equal("e\u0301\u0300", AccountEmail.Normalize("e\u0301\u0300"));
        Assert.NotEqual(AccountEmail.Normalize("e\u0301\u0300"), AccountEmail.Normalize("e\u0300\u0301"));
    }

    /// <summary>
    /// Invariant casing leaves "İ" (U+0130) upper-case while it lowers its decomposition "I" + U+0307: the key lowered
    /// first, so the two spellings of one address were two accounts until 2026-12-06.
    /// </summary>
    [Fact]
    public void ADottedCapitalI_IsOneAddressWithItsDecomposition()
    {
        Assert.Equal("i\u0307pek@firma.example", AccountEmail.Normalize("\u0130pek@firma.example"));
        Assert.Equal("i\u0307pek@firma.example", AccountEmail.Normalize("I\u0307pek@firma.example"));
        Assert.Equal("i\u0307pek@firma.example", AccountEmail.Normalize("i\u0307pek@firma.example"));
        Assert.NotEqual(AccountEmail.Normalize("ipek@firma.example"), AccountEmail.Normalize("\u0130pek@firma.example"));
    }

    /// <summary>Every code point keys as its own decomposition does: the key cannot depend on which canonically
    /// equivalent spelling was typed, whatever casing does to either.</summary>
    [Fact]
    public void EveryCodePoint_KeysAsItsDecomposition()
    {
        var differ = new List<string>();
        for (int point = 0x80; point <= 0x10FFFF; point++)
        {
            if (point is >= 0xD800 and <= 0xDFFF) continue;
            string text = "x" + char.ConvertFromUtf32(point) + "@y";
            Assert.True(CanonicalDecomposition.TryDecompose(text, out string decomposed));
            if (AccountEmail.Normalize(text) != AccountEmail.Normalize(decomposed)) differ.Add(point.ToString("X4"));
        }
        Assert.True(differ.Count == 0, "keyed apart from their decomposition: " + string.Join(' ', differ.Take(20)));
    }

    [Fact]
    public void HangulSyllables_DecomposeIntoTheirJamo()
    {
        Assert.Equal("\u1100\u1161", AccountEmail.Normalize("\uAC00"));              // 가
        Assert.Equal("\u1112\u1161\u11AB", AccountEmail.Normalize("\uD55C"));        // 한
        Assert.Equal(AccountEmail.Normalize("\uD55C@x.example"), AccountEmail.Normalize("\u1112\u1161\u11AB@x.example"));
    }

    [Fact]
    public void IllFormedUtf16_IsRefused_AndMatchesNoWellFormedAddress()
    {
        Assert.False(AccountEmail.TryNormalize("a\uD800b@example.com", out _));
        Assert.False(AccountEmail.TryNormalize("a\uDC00\u00E9@example.com", out _));
        Assert.Equal("a\uD800b@example.com", AccountEmail.Normalize(" A\uD800B@example.com"));   // no exception
        Assert.True(AccountEmail.TryNormalize("Plain@Example.com", out string plain));
        Assert.Equal("plain@example.com", plain);
    }

    [Fact]
    public void CompatibilityForms_StayDistinct()
    {
        // Canonical, not compatibility, equivalence: a full-width letter or a ligature is another address.
        Assert.NotEqual(AccountEmail.Normalize("a@example.com"), AccountEmail.Normalize("\uFF41@example.com"));
        Assert.NotEqual(AccountEmail.Normalize("fi@example.com"), AccountEmail.Normalize("\uFB01@example.com"));
    }
}
