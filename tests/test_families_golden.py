"""Golden tests: real documented outputs of each VLM family parse to the documented pixels.

Sources are noted per case (see /work/shared/reference/vlm_families.md §2 for the quotes).
Expected values are computed here by hand from each family's published frame, never by
calling the parser under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.errors import ModelLoadError, ModelOutputError
from vlm_ros.families import FAMILIES, REGISTRY, family_for_model_type, get_family
from vlm_ros.families.qwen2_5_vl import smart_resize


def approx_points(found, expected, tol=0.6):
    assert len(found) == len(expected), found
    for (label, (x, y)), (elabel, (ex, ey)) in zip(found, expected):
        assert label == elabel
        assert x == pytest.approx(ex, abs=tol) and y == pytest.approx(ey, abs=tol), (label, x, y, ex, ey)


def centre(x0, y0, x1, y1):
    return ((x0 + x1) / 2, (y0 + y1) / 2)


# --- Qwen2.5-VL / RoboBrain 2.0: absolute pixels of the resized image ------------------------------------------

def test_qwen_smart_resize_matches_the_processor_examples():
    # reference §2, reimplemented and checked against Qwen2VLImageProcessor: 1920x1080 -> 1316x728; 368x434 -> 364x448
    assert smart_resize(1920, 1080) == (1316, 728)
    assert smart_resize(368, 434) == (364, 448)
    assert smart_resize(640, 480) == (644, 476)


@pytest.mark.parametrize("size", [(640, 480), (1920, 1080), (368, 434), (100, 60), (3000, 200)])
def test_qwen_smart_resize_equals_the_real_image_processor(size):
    import transformers
    from PIL import Image

    processor = transformers.Qwen2VLImageProcessor()  # transformers' defaults (PIL backend without torchvision)
    rgb = np.zeros((size[1], size[0], 3), np.uint8)
    _, grid_h, grid_w = processor(images=[Image.fromarray(rgb)], return_tensors="pt")["image_grid_thw"][0].tolist()
    assert smart_resize(*size) == (grid_w * 14, grid_h * 14)


def test_qwen2_5_blog_motorcyclists():
    # Qwen2.5-VL blog (qwenlm.github.io/blog/qwen2.5-vl), detection of motorcyclists with sub_label; resized == original
    text = ('```json\n[{"bbox_2d": [341, 258, 397, 360], "label": "motorcyclist", "sub_label": "not wearing helmat "}, '
            '{"bbox_2d": [212, 332, 274, 448], "label": "motorcyclist", "sub_label": "not wearing helmat "}, '
            '{"bbox_2d": [66, 124, 112, 198], "label": "motorcyclist", "sub_label": "not wearing helmat "}, '
            '{"bbox_2d": [5, 235, 63, 320], "label": "motorcyclist", "sub_label": "wearing helmat "}]\n```')
    found = get_family("qwen2_5_vl").parse(text, image_size=(644, 476), processed_size=(644, 476))
    approx_points(found, [("motorcyclist", centre(341, 258, 397, 360)), ("motorcyclist", centre(212, 332, 274, 448)),
                          ("motorcyclist", centre(66, 124, 112, 198)), ("motorcyclist", centre(5, 235, 63, 320))])
    assert found[0].box == (341, 258, 397, 360)


def test_qwen2_5_issue_1035_trowel_is_rescaled_and_clamped():
    # QwenLM/Qwen3-VL#1035: original 368x434, processor-resized 364x448, answer [19, 300, 154, 476] (y2 > 448)
    found = get_family("qwen2_5_vl").parse("[19, 300, 154, 476]", image_size=(368, 434), processed_size=(364, 448))
    sx, sy = 368 / 364, 434 / 448
    box = (19 * sx, 300 * sy, 154 * sx, 433.0)  # y2 = 476 * sy = 461 is past the bottom row: clamped to 433
    assert found[0].box == pytest.approx(box)
    approx_points(found, [("", centre(*box))])
    # without processed_size the adapter applies the processor's own resize
    assert get_family("qwen2_5_vl").parse("[19, 300, 154, 476]", image_size=(368, 434))[0].box == pytest.approx(box)


def test_qwen2_5_finetune_target_house():
    # qwen-vl-finetune/README.md @9658872: "{\n"bbox_2d": [135, 114, 1016, 672]\n}" for "Locate house in this image"
    found = get_family("qwen2_5_vl").parse('{\n"bbox_2d": [135, 114, 1016, 672]\n}', image_size=(1092, 728),
                                           processed_size=(1092, 728))
    approx_points(found, [("", centre(135, 114, 1016, 672))])


def test_robobrain_pointing_tuples():
    # FlagOpen/RoboBrain2.0 README, pointing answer (integer pixels on the original image)
    found = get_family("robobrain").parse("[(376, 309), (332, 357), (384, 335), (343, 296)]",
                                          image_size=(640, 480), processed_size=(640, 480))
    approx_points(found, [("", (376, 309)), ("", (332, 357)), ("", (384, 335)), ("", (343, 296))])


# --- Qwen3-VL: relative 0-1000 ---------------------------------------------------------------------------------

def test_qwen3_relative_box_third_party_ollama_doc():
    # third-party Qwen3-VL (qwen3-vl:8b via Ollama) grounding doc:
    # pixels [468, 0, 640, 117] on 640x428 = [731, 2, 1000, 273]
    found = get_family("qwen3_vl").parse('[{"bbox_2d": [731, 2, 1000, 273], "label": "person"}]', image_size=(640, 428))
    assert found[0].box == pytest.approx((467.84, 0.856, 639.0, 116.844), abs=0.01)  # x1 640 clamped to 639


def test_qwen3_point_json_gui_format():
    # QwenLM/Qwen3-VL#2046 output schema [{"point_2d": [x, y], "label": ...}] in a ```json fence, 0-1000 frame
    text = ('```json\n[\n  {"point_2d": [500, 250], "label": "red block"},\n'
            '  {"point_2d": [125, 900], "label": "bowl"}\n]\n```')
    found = get_family("qwen3_vl").parse(text, image_size=(640, 480))
    approx_points(found, [("red block", (320, 120)), ("bowl", (80, 432))])


def test_qwen3_point_past_the_edge_clamps():
    # cookbook note (reference §2): a point_2d whose x exceeds the image width proves the 0-1000 frame;
    # 1000 -> last column
    found = get_family("qwen3_vl").parse('{"point_2d": [1000, 1000], "label": "corner"}', image_size=(640, 480))
    approx_points(found, [("corner", (639, 479))])


# --- PaliGemma: <locY0><locX0><locY1><locX1>, /1024 -----------------------------------------------------------------

PALIGEMMA_EXAMPLE = (  # EXAMPLE_STRING of big_vision's paligemma demo space (paligemma_parse.py)
    "<loc0000><loc0000><loc0930><loc1012> <seg114><seg074><seg106><seg044><seg030><seg027><seg119><seg119><seg120>"
    "<seg117><seg082><seg082><seg051><seg005><seg125><seg097> wall ; <loc0722><loc0047><loc0895><loc0378> <seg068>"
    "<seg114><seg014><seg037><seg029><seg063><seg048><seg104><seg010><seg056><seg021><seg056><seg019><seg017><seg102>"
    "<seg121> car ; <loc0180><loc0596><loc0782><loc0961> <seg026><seg028><seg028><seg026><seg104><seg026><seg029>"
    "<seg022><seg000><seg068><seg092><seg125><seg003><seg127><seg121><seg043> david bowie ; "
    "<loc0234><loc0043><loc0736><loc0289> "
    "<seg068><seg008><seg091><seg064><seg007><seg055><seg017><seg090><seg042><seg052><seg068><seg086><seg001><seg014>"
    "<seg093><seg052> david bowie ; <loc0230><loc0300><loc0736><loc0499> <seg073><seg011><seg114><seg059><seg048>"
    "<seg097>"
    "<seg091><seg022><seg007><seg036><seg091><seg022><seg016><seg009><seg003><seg036> david bowie")


def test_paligemma_segment_example_string():
    found = get_family("paligemma").parse(PALIGEMMA_EXAMPLE, image_size=(640, 480))
    assert [f.label for f in found] == ["wall", "car", "david bowie", "david bowie", "david bowie"]
    assert found[0].box == pytest.approx((0.0, 0.0, 632.5, 435.94), abs=0.01)  # reference: wall [0, 0, 632.5, 435.9]
    assert found[1].box == pytest.approx((29.375, 338.44, 236.25, 419.53), abs=0.01)  # car [29.4, 338.4, 236.2, 419.5]


def test_paligemma_detect_car():
    # github.com/JarvisZhang24/nano-paligemma2 README: `detect car` -> <loc0246><loc0229><loc0872><loc0904>
    found = get_family("paligemma").parse("<loc0246><loc0229><loc0872><loc0904> car", image_size=(1024, 1024))
    assert found[0].box == pytest.approx((229, 246, 904, 872))


def test_paligemma_demo_on_other_size():
    # the same demo's own self-test size (extract_objs(EXAMPLE_STRING, 100, 200)): big_vision rounds 930/1024*200 = 182
    found = get_family("paligemma").parse(PALIGEMMA_EXAMPLE, image_size=(100, 200))
    assert [round(v) for v in found[0].box] == [0, 0, 99, 182]  # x1 98.8 -> 99 (clamped to the last column, 99)


# --- Florence-2: <loc_N> bins, (bin + 0.5) * size / 1000 --------------------------------------------------------------

def test_florence2_od_car_image():
    # transformers tests/models/florence2/test_modeling_florence2.py (Florence-2-base, 640x480 car image, task <OD>)
    text = ("</s><s>car<loc_53><loc_333><loc_933><loc_774>door handle<loc_425><loc_503><loc_474><loc_515>"
            "wheel<loc_709><loc_576><loc_865><loc_772><loc_150><loc_584><loc_309><loc_773></s><pad><pad>")
    found = get_family("florence2").parse(text, image_size=(640, 480))
    assert [f.label for f in found] == ["car", "door handle", "wheel", "wheel"]
    documented = [[34, 160, 597, 371], [272, 241, 303, 247], [454, 276, 553, 370], [96, 280, 198, 371]]
    assert [[int(v) for v in f.box] for f in found] == documented  # post_process_generation truncates to int


def test_florence2_open_vocabulary_detection():
    # same test file, <OPEN_VOCABULARY_DETECTION>car -> bboxes [[33, 160, 596, 371]]
    found = get_family("florence2").parse("</s><s>car<loc_52><loc_334><loc_932><loc_774></s>", image_size=(640, 480))
    assert [int(v) for v in found[0].box] == [33, 160, 596, 371]


def test_florence2_phrase_grounding():
    # transformers tests/models/florence2/test_processing_florence2.py: two "red car" boxes and one "sky"
    text = ("</s><s>red car<loc_53><loc_334><loc_933><loc_775><loc_711><loc_203><loc_906><loc_546>"
            "sky<loc_0><loc_0><loc_1000><loc_300></s>")
    found = get_family("florence2").parse(text, image_size=(640, 480))
    assert [f.label for f in found] == ["red car", "red car", "sky"]
    assert found[2].box == pytest.approx((0.32, 0.24, 639.0, 144.24))  # bin 1000 overshoots: clamped


# --- Molmo2: coords="IMG id x y ...", /1000 ---------------------------------------------------------------------------

def test_molmo2_curb_ramps():
    # user repo test "from a real response" (reference §2, Molmo2): two points of one image
    text = '<points coords="1 1 308 305 2 752 377">curb ramp</points>'
    found = get_family("molmo2").parse(text, image_size=(1000, 500))
    approx_points(found, [("curb ramp", (308, 152.5)), ("curb ramp", (752, 188.5))])


def test_molmo2_extra_attributes_and_several_images():
    # reference §2: outputs may carry attributes besides coords (the model card regex misses them);
    # groups per image are separated by tabs
    text = 'Here: <points alt="penguins" coords="1 1 100 200 2 300 400\t2 1 500 500">penguins</points>'
    found = get_family("molmo2").parse(text, image_size=(640, 480))
    approx_points(found, [("penguins", (64, 96)), ("penguins", (192, 192)), ("penguins", (320, 240))])


def test_molmo2_docs_prompt_answer_format():
    # transformers docs molmo2.md: prompt "Point to the penguins." -> a <points coords=...> payload;
    # the card's regex allows 3-4 digit coordinates
    found = get_family("molmo2").parse('<points coords="1 1 1000 0500">penguin</points>', image_size=(640, 480))
    approx_points(found, [("penguin", (639, 240))])


# --- Molmo v1 (remote code; parser for remote backends): percent 0-100 ---------------------------------------------

def test_molmo_v1_points_and_point():
    # Ai2 playground fixture (reference §2) and maintainer chrisc36's format note (0-100)
    text = ('Counting the <points x1="9.1" y1="11.7" x2="17.2" y2="41.3" x3="19.6" y3="3.4" x4="26.8" y4="54.4" '
            'x5="30.8" y5="1.6" alt="the boats">the boats</points> shows a total of 5.')
    found = get_family("molmo").parse(text, image_size=(1000, 1000))
    approx_points(found, [("the boats", (91, 117)), ("the boats", (172, 413)), ("the boats", (196, 34)),
                          ("the boats", (268, 544)), ("the boats", (308, 16))])
    one = get_family("molmo").parse('<point x="63.3" y="85.8" alt="Small fishing boat">Small fishing boats</point>',
                                    image_size=(640, 480))
    approx_points(one, [("Small fishing boats", (405.12, 411.84))])


# --- InternVL: <ref>..</ref><box>[[...]]</box>, 0-1000 ---------------------------------------------------------------

def test_internvl_boxes():
    # third-party InternVL fine-tune data (reference §2): four circles, and a bus
    found = get_family("internvl").parse(
        "<ref>circle</ref><box>[[278,24,354,100],[515,10,611,106],[174,299,228,353],[407,415,489,497]]</box>",
        image_size=(1000, 1000))
    approx_points(found, [("circle", centre(278, 24, 354, 100)), ("circle", centre(515, 10, 611, 106)),
                          ("circle", centre(174, 299, 228, 353)), ("circle", centre(407, 415, 489, 497))])
    bus = get_family("internvl").parse("<ref>bus</ref><box>[[290, 202, 835, 851]]</box>", image_size=(640, 480))
    assert bus[0].box == pytest.approx((185.6, 96.96, 534.4, 408.48))


# --- prompted-JSON families (no documented grounding format) and our own program --------------------------------------

@pytest.mark.parametrize("name", ["idefics3", "smolvlm", "gemma3"])
def test_prompted_json_families_read_the_format_they_are_asked_for(name):
    # No documented outputs exist for these (reference §2); they are prompted for Qwen3-style JSON in 0-1000.
    adapter = get_family(name)
    assert "point_2d" in adapter.prompt("blue mug")
    found = adapter.parse('Sure! [{"point_2d": [250, 750], "label": "blue mug"}]', image_size=(640, 480))
    approx_points(found, [("blue mug", (160, 360))])


def test_vlm_ros_program_family():
    found = get_family("vlm_ros").parse("pick(red block) @ (312.0, 240.5) ; place(green bowl) @ [100, 190, 120, 210]",
                                        image_size=(640, 480))
    approx_points(found, [("red block", (312, 240.5)), ("green bowl", (110, 200))])


# --- registry behaviour ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_reads_back_what_its_oracle_writes(name):
    adapter = REGISTRY[name]
    for size, processed in (((640, 480), None), ((640, 480), (644, 476)), ((1280, 720), (1288, 728))):
        for box in (None, (100.0, 120.0, 180.0, 200.0)):
            point = (140.0, 160.0) if box is None else centre(*box)
            text = adapter.format_answer("blue mug", point, box, size, processed)
            (label, (x, y)), = adapter.parse(text, image_size=size, processed_size=processed)
            assert label == "blue mug"
            assert abs(x - point[0]) <= 2.0 and abs(y - point[1]) <= 2.0, (name, text, x, y, point)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("text", ["", "I cannot find it.", "```json\n[]\n```"])
def test_nothing_usable_raises_model_output_error_with_the_text(name, text):
    with pytest.raises(ModelOutputError) as error:
        get_family(name).parse(text, image_size=(640, 480))
    if text and name != "vlm_ros":
        assert repr(text)[1:8] in str(error.value)


def test_registry_lookups():
    native = {"qwen2_5_vl", "qwen3_vl", "paligemma", "florence2", "idefics3", "smolvlm", "molmo2", "gemma3", "internvl"}
    assert native | {"vlm_ros", "molmo"} == set(FAMILIES)
    assert family_for_model_type("qwen3_vl_moe").name == "qwen3_vl"
    assert family_for_model_type("llama") is None
    assert get_family("Qwen2.5-VL".replace(".", "_")).name == "qwen2_5_vl"
    with pytest.raises(ModelLoadError, match="remote code"):
        get_family("moondream")
    with pytest.raises(ModelLoadError, match="known families"):
        get_family("gpt4")
