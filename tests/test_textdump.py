"""Tests for the text-dump reader: the real example filing, each format rule, each encoding, bad input."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from hegui.facts import files
from hegui.facts.errors import InputError
from hegui.facts.model import Grid, Source
from hegui.facts.textdump import decode_text, read_text_dump

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shifeng-zzb-2023.txt"


def texts(grid: Grid) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in grid.rows]


def lines(grid: Grid) -> list[list[tuple[int, int]]]:
    return [[(cell.source.line, cell.source.end_line) for cell in row.cells] for row in grid.rows]


def write(tmp_path: Path, content: str | bytes, name: str = "t.txt", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read_str(tmp_path: Path, content: str) -> Grid:
    return read_text_dump(write(tmp_path, content))


def cell_at(grid: Grid, line: int):
    found = [cell for row in grid.rows for cell in row.cells if cell.source.line == line]
    assert len(found) == 1, f"no single cell starting at line {line}"
    return found[0]


# --- the real example ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Grid:
    return read_text_dump(str(EXAMPLE))


def test_example_first_rows(example: Grid) -> None:
    assert example.encoding == "utf-8"
    assert example.path == str(EXAMPLE)
    assert [len(row.cells) for row in example.rows[:6]] == [6, 1, 4, 2, 2, 3]
    assert texts(example)[:2] == [["附件1", "", "", "", "", ""], ["2023年部门整体支出绩效目标表"]]
    assert texts(example)[3] == ["部门名称", "石峰区委组织部"]


def test_example_provenance(example: Grid) -> None:
    first = example.rows[0].cells[0]
    assert first.source == Source(str(EXAMPLE), 1, 1)
    assert lines(example)[3] == [(15, 15), (16, 16)]
    assert example.rows[3].source == Source(str(EXAMPLE), 15, 16)
    # Every cell's first line in the file really is that cell's first line of text.
    raw = EXAMPLE.read_text(encoding="utf-8").split("\n")
    for row in example.rows:
        for cell in row.cells:
            assert raw[cell.source.line - 1].removeprefix("\t") == cell.text.split("\n")[0]
            assert raw[cell.source.end_line - 1].removeprefix("\t") == cell.text.split("\n")[-1]


def test_example_continuation_line(example: Grid) -> None:
    cell = cell_at(example, 18)
    assert cell.text == "年度预算申请\n\n（万元）"
    assert (cell.source.line, cell.source.end_line) == (18, 20)
    # The blank line 19 was a paragraph break, so 资金总额 (line 21) stays in the same row.
    assert texts(example)[4] == ["年度预算申请\n\n（万元）", "资金总额："]


def test_example_multi_paragraph_cell(example: Grid) -> None:
    cell = cell_at(example, 439)
    assert cell.text.startswith("1、9个行政村现任村“两委”成员33人")
    assert cell.text.endswith(
        "万元。\n\n2、办公经费：9个村每个村5万元办公经费共45万元。\n\n3、党建经费：9各村每个村4万元党建经费共36万元。"
    )
    assert cell.text.count("\n") == 4
    assert cell.source == Source(str(EXAMPLE), 439, 443)
    row = next(row for row in example.rows if cell in row.cells)
    assert [c.text for c in row.cells][:4] == [
        "",
        "村级运转经费（村干部工资、党建工作经费、办公经费）",
        "村级运转经费（村干部工资、党建工作经费、办公经费）",
        "221",
    ]
    # Line 444 is blank and 445 is tabbed: the cell ends at 443 and a new row starts.
    assert cell_at(example, 445) is example.rows[example.rows.index(row) + 1].cells[0]


def test_example_footer_continues_previous_cell(example: Grid) -> None:
    footer = cell_at(example, 131)
    assert footer.text.startswith("填表人：    陈光")
    assert footer.text.endswith("22629616                  \n附件2\n2023年专项资金预算绩效目标汇总表")
    assert (footer.source.line, footer.source.end_line) == (131, 133)
    assert not any(cell.stripped == "附件2" for row in example.rows for cell in row.cells)


def test_example_untabbed_footer_after_blank_lines(example: Grid) -> None:
    # Lines 320-321 are blank and 322 is untabbed, so 填表人 is a paragraph of the signature cell.
    cell = cell_at(example, 319)
    assert cell.text.startswith("单位负责人签字：\n\n\n填表人： 陈光")
    assert cell.source == Source(str(EXAMPLE), 319, 322)


def test_example_data_argument_matches_file(example: Grid) -> None:
    grid = read_text_dump("renamed.txt", EXAMPLE.read_bytes())
    assert texts(grid) == texts(example)
    assert grid.path == "renamed.txt"
    assert grid.rows[0].cells[0].source.file == "renamed.txt"


# --- format rules -------------------------------------------------------------------------------


def test_cells_rows_and_empty_cells(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\ta\n\t\n\t  b  c \n\n\td\n")
    assert texts(grid) == [["a", "", "  b  c "], ["d"]]
    assert lines(grid) == [[(1, 1), (2, 2), (3, 3)], [(5, 5)]]


def test_only_first_tab_is_the_marker(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\t\tindented\ta\n")
    assert texts(grid) == [["\tindented\ta"]]


def test_untabbed_line_continues_previous_cell(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\ta\n\tb\nmore\nand more\n\tc\n")
    assert texts(grid) == [["a", "b\nmore\nand more", "c"]]
    assert lines(grid) == [[(1, 1), (2, 4), (5, 5)]]


def test_blank_then_untabbed_is_paragraph_break(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\tx\n\t1、one\n\n2、two\n\n\n3、three\n\n\ty\n")
    assert texts(grid) == [["x", "1、one\n\n2、two\n\n\n3、three"], ["y"]]
    assert lines(grid) == [[(1, 1), (2, 7)], [(9, 9)]]


def test_trailing_blank_lines_are_not_part_of_cell(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\ta\nb\n\n\n\n")
    assert texts(grid) == [["a\nb"]]
    assert lines(grid) == [[(1, 2)]]


def test_blank_line_ends_row_and_empty_rows_are_dropped(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\n\n\ta\n\n\n\n\tb\n\n")
    assert texts(grid) == [["a"], ["b"]]
    assert lines(grid) == [[(3, 3)], [(7, 7)]]


def test_whitespace_only_line_counts_as_blank(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\ta\n   \n\tb\n")
    assert texts(grid) == [["a"], ["b"]]


def test_untabbed_text_at_start_is_its_own_cell(tmp_path: Path) -> None:
    grid = read_str(tmp_path, "\n附件2\n标题\n\tx\n\n\ty\n")
    assert texts(grid) == [["附件2\n标题", "x"], ["y"]]
    assert lines(grid) == [[(2, 3), (4, 4)], [(6, 6)]]


def test_vertical_tab_and_form_feed_stay_inside_cell(tmp_path: Path) -> None:
    # Word writes VT for a manual line break; it must not split the cell or the row.
    grid = read_str(tmp_path, "\ta\x0bb\n\tc\x0cd\u2028e\n")
    assert texts(grid) == [["a\x0bb", "c\x0cd\u2028e"]]


def test_source_file_is_path_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, "\ta\n")
    grid = read_text_dump(path)
    assert grid.path == str(path)
    assert grid.rows[0].cells[0].source == Source(str(path), 1, 1)


# --- encodings and line ends --------------------------------------------------------------------

SAMPLE = "\t附件3-2\n\t\n\n\t年度预算申请\n\n（万元）\n\t金额：299.40\n\n\t1、办公经费\n\n2、党建经费\n"
SAMPLE_TEXTS = [["附件3-2", ""], ["年度预算申请\n\n（万元）", "金额：299.40"], ["1、办公经费\n\n2、党建经费"]]


@pytest.mark.parametrize(
    ("codec", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_give_same_cells(tmp_path: Path, codec: str, reported: str) -> None:
    grid = read_text_dump(write(tmp_path, SAMPLE, encoding=codec))
    assert grid.encoding == reported
    assert texts(grid) == SAMPLE_TEXTS
    assert not grid.rows[0].cells[0].text.startswith("\ufeff")


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # U+3400 is outside GBK: only a real GB18030 decode gets it right.
    grid = read_text_dump(write(tmp_path, "\t㐀村\n", encoding="gb18030"))
    assert (grid.encoding, texts(grid)) == ("gb18030", [["㐀村"]])


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends(tmp_path: Path, newline: str) -> None:
    grid = read_text_dump(write(tmp_path, SAMPLE.replace("\n", newline)))
    assert texts(grid) == SAMPLE_TEXTS
    assert lines(grid) == lines(read_str(tmp_path, SAMPLE))
    assert not any("\r" in cell.text for row in grid.rows for cell in row.cells)


def test_decode_text_directly() -> None:
    assert decode_text("x", "\t甲\r\n".encode("gbk")) == ("\t甲\n", "gb18030")
    assert decode_text("x", b"\xef\xbb\xbf\tA\r") == ("\tA\n", "utf-8-sig")


# --- bad input ----------------------------------------------------------------------------------


def error_for(tmp_path: Path, content: bytes, **kwargs) -> InputError:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as info:
        read_text_dump(path, **kwargs)
    assert info.value.path == str(path)
    return info.value


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n\r\n", "\u3000\n".encode(), b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    assert "文件为空" in error_for(tmp_path, content).message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "Excel/Word"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel/Word"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}}", "RTF"),
    ],
)
def test_known_binary_formats(tmp_path: Path, content: bytes, expected: str) -> None:
    error = error_for(tmp_path, content)
    assert expected in error.message
    assert "文本导出" in error.message


def test_nul_bytes_are_binary_with_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, b"\ta\n\n\tb\x00c\n")
    assert "二进制" in error.message
    assert error.location == "第3行"


def test_many_control_characters_are_binary(tmp_path: Path) -> None:
    error = error_for(tmp_path, b"\ta\x01\x02\x03\x04\x05\x06\x07b\n" * 5)
    assert "控制字符" in error.message


def test_a_stray_control_character_is_tolerated(tmp_path: Path) -> None:
    grid = read_text_dump(write(tmp_path, b"\ta\x07b\n" + b"\tlong enough cell text\n" * 10))
    assert grid.rows[0].cells[0].text == "a\x07b"


def test_utf16_is_named(tmp_path: Path) -> None:
    error = error_for(tmp_path, "\t附件1\n".encode("utf-16"))
    assert "UTF-16" in error.message


def test_undecodable_text_names_encodings_and_line(tmp_path: Path) -> None:
    # \x80 is invalid both as a UTF-8 start byte and as a lone GB18030 byte.
    error = error_for(tmp_path, b"\ta\r\n\tb\r\n\r\n\tc\x80\x80\n")
    assert "UTF-8" in error.message and "GB18030" in error.message
    assert error.location == "第4行"


def test_bad_utf8_after_bom_is_not_guessed_as_gb18030(tmp_path: Path) -> None:
    error = error_for(tmp_path, b"\xef\xbb\xbf\ta\n\t" + "甲".encode("gbk") + b"\n")
    assert "UTF-8" in error.message
    assert error.location == "第2行"


def test_too_large(tmp_path: Path) -> None:
    error = error_for(tmp_path, b"\ta\n" * 100, max_bytes=200)
    assert "300" in error.message and "200" in error.message


def test_too_large_with_data_argument() -> None:
    with pytest.raises(InputError) as info:
        read_text_dump("given.txt", b"\ta\n" * 100, max_bytes=299)
    assert info.value.path == "given.txt"
    assert "300" in info.value.message and "299" in info.value.message


def test_exactly_max_bytes_is_accepted(tmp_path: Path) -> None:
    grid = read_text_dump(write(tmp_path, b"\ta\n" * 100), max_bytes=300)
    assert len(grid.rows[0].cells) == 100


def test_no_tabbed_cell_is_not_this_format(tmp_path: Path) -> None:
    error = error_for(tmp_path, "附件1\n2023年部门整体支出绩效目标表\n\n部门名称 石峰区委组织部\n".encode())
    assert "不是表格文本导出格式" in error.message
    assert "Tab" in error.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(InputError) as info:
        read_text_dump(path)
    assert info.value.path == str(path)
    assert "找不到" in info.value.message


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_text_dump(tmp_path)
    assert info.value.path == str(tmp_path)
    assert "文件夹" in info.value.message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "\ta\n")
    path.chmod(0)
    try:
        with pytest.raises(InputError) as info:
            read_text_dump(path)
    finally:
        path.chmod(0o600)
    assert "权限" in info.value.message


def test_permission_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs as root in CI, where chmod cannot make a file unreadable; simulate the OS refusal.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "open", refuse, raising=False)
    with pytest.raises(InputError) as info:
        read_text_dump(write(tmp_path, "\ta\n"))
    assert "权限" in info.value.message


def test_other_os_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "\ta\n") / "child.txt"  # a file used as a directory
    with pytest.raises(InputError) as info:
        read_text_dump(path)
    assert "无法读取文件" in info.value.message


def test_nul_in_path() -> None:
    with pytest.raises(InputError) as info:
        read_text_dump("bad\x00name.txt")
    assert "路径" in info.value.message


def test_error_str_names_file_and_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, b"\ta\n\tb\x00\n")
    assert str(error) == f"{tmp_path / 't.txt'}（第2行）：{error.message}"


# --- robustness ---------------------------------------------------------------------------------


def test_any_bytes_give_grid_or_input_error() -> None:
    rng = random.Random(20230101)
    example = EXAMPLE.read_bytes()
    samples: list[bytes] = [example[:n] for n in range(0, 400, 7)]
    samples += [example[: rng.randrange(len(example))] for _ in range(50)]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(300)]
    samples += [
        bytes(rng.choice(b"\t\n\r \xe4\xb8\xad\x80\xa1\xef\xbb\xbfab\x0b") for _ in range(rng.randrange(1, 60)))
        for _ in range(500)
    ]
    for _ in range(100):
        mutated = bytearray(example[:2000])
        for _ in range(rng.randrange(1, 10)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    outcomes = {"grid": 0, "error": 0}
    for data in samples:
        try:
            result = read_text_dump("fuzz.txt", data)
        except InputError as error:
            assert error.message and error.path == "fuzz.txt"
            outcomes["error"] += 1
        else:
            assert isinstance(result, Grid)
            assert all(row.cells for row in result.rows)
            outcomes["grid"] += 1
    # Both paths must actually be exercised, or the test proves nothing.
    assert outcomes["grid"] > 50 and outcomes["error"] > 50
