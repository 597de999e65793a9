//! TIFF stacks: a folder or a glob of single-page 8- or 16-bit grey TIFF
//! slices (sorted by name, numbers in names compared by value, so
//! `z2.tif` comes before `z10.tif`), or one multi-page TIFF whose pages are
//! the slices; read with the `tiff` crate (uncompressed, LZW and deflate).
//!
//! Voxel size: TIFF itself has no slice spacing, so it is read from an
//! ImageJ description (`ImageJ=…`, `unit=mm|micron|…`, `spacing=` the
//! slice spacing) with the in-plane pixel size `1/XResolution`,
//! `1/YResolution` in that unit, as ImageJ and Fiji write stacks. Without
//! it the file states no voxel size and the scene must give `voxel.size`.
//! [`write_u8`] writes a multi-page TIFF in that form.

use super::{cubic, mm_per_unit, GreyImage, ImageError, ImageInfo, SampleType};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

fn tiff_err(path: &Path, e: tiff::TiffError) -> ImageError {
    match e {
        tiff::TiffError::IoError(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::Format {
                path: path.to_path_buf(),
                problem: format!("truncated TIFF data ({error})"),
            }
        }
        tiff::TiffError::UnsupportedError(u) => ImageError::Unsupported {
            path: path.to_path_buf(),
            what: "TIFF feature",
            value: format!("'{}'", crate::text::excerpt(&u.to_string())),
            allowed: "single-channel 8- or 16-bit grey slices, uncompressed, LZW or deflate",
        },
        e => ImageError::Format {
            path: path.to_path_buf(),
            problem: format!("not a readable TIFF: {e}"),
        },
    }
}

/// The files of `dir` whose names match `pattern` (`*` any run of
/// characters, `?` one character; a bare `*` matches `.tif` and `.tiff`
/// files only), sorted by name. `shown` names the request in errors.
pub fn glob(dir: &Path, pattern: &str, shown: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let entries = std::fs::read_dir(dir).map_err(|error| ImageError::Read {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| ImageError::Read {
            path: dir.to_path_buf(),
            error,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let lower = name.to_ascii_lowercase();
        let is_tiff = lower.ends_with(".tif") || lower.ends_with(".tiff");
        let matched = if pattern == "*" {
            is_tiff
        } else {
            matches(pattern, &name)
        };
        if matched && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    if files.is_empty() {
        return Err(ImageError::Dimensions {
            path: shown.to_path_buf(),
            problem: "no TIFF slice found (a folder needs .tif or .tiff files; a glob, files matching it)"
                .into(),
        });
    }
    sort_by_name(&mut files);
    Ok(files)
}

/// Whether `name` matches `pattern` (`*` any run of characters, `?` one
/// character), in time linear in the name (the `wildmatch` crate: a
/// pattern of many `*` does not backtrack exponentially).
fn matches(pattern: &str, name: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(name)
}

/// Sorts paths by file name, runs of digits compared by value.
pub fn sort_by_name(files: &mut [PathBuf]) {
    files.sort_by_cached_key(|p| name_key(&p.file_name().unwrap_or_default().to_string_lossy()));
}

/// A file name as text and numbers: `z10.tif` → [Text("z"), Num(10), Text(".tif")].
fn name_key(name: &str) -> Vec<(String, u128, usize)> {
    let mut key = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 {
            let (d, r) = rest.split_at(digits);
            key.push((String::new(), d.parse().unwrap_or(u128::MAX), d.len()));
            rest = r;
        } else {
            let text = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (t, r) = rest.split_at(text);
            key.push((t.to_string(), 0, 0));
            rest = r;
        }
    }
    key
}

fn open(path: &Path) -> Result<Decoder<BufReader<File>>, ImageError> {
    let file = File::open(path).map_err(|error| ImageError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    Decoder::new(BufReader::new(file))
        .map(|d| d.with_limits(Limits::unlimited()))
        .map_err(|e| tiff_err(path, e))
}

/// The current page's width, height and sample type.
fn page_format(
    d: &mut Decoder<BufReader<File>>,
    path: &Path,
) -> Result<(usize, usize, SampleType), ImageError> {
    let (w, h) = d.dimensions().map_err(|e| tiff_err(path, e))?;
    let colour = d.colortype().map_err(|e| tiff_err(path, e))?;
    // One entry per channel; read only for one grey channel.
    let format = match colour {
        ColorType::Gray(_) => d
            .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
            .map_err(|e| tiff_err(path, e))?
            .and_then(|v| v.first().copied())
            .unwrap_or(1),
        _ => 0,
    };
    let t = match (colour, format) {
        (ColorType::Gray(8), 1) => SampleType::U8,
        (ColorType::Gray(16), 1) => SampleType::U16,
        (ColorType::Gray(16), 2) => SampleType::I16,
        (ColorType::Gray(32), 3) => SampleType::F32,
        _ => {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what: "TIFF sample type",
                value: format!("{colour:?} (sample format {format})"),
                allowed: "one grey channel of 8- or 16-bit unsigned integers (also 16-bit signed, 32-bit float)",
            })
        }
    };
    Ok((w as usize, h as usize, t))
}

/// The voxel size an ImageJ description and the resolution tags state.
fn page_spacing(d: &mut Decoder<BufReader<File>>, path: &Path) -> Result<Option<f64>, ImageError> {
    let Ok(Some(desc)) = d.find_tag(Tag::ImageDescription) else {
        return Ok(None);
    };
    let Ok(desc) = desc.into_string() else {
        return Ok(None);
    };
    if !desc.starts_with("ImageJ=") {
        return Ok(None);
    }
    let field = |key: &str| {
        desc.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .map(str::trim)
    };
    let (Some(unit), Some(spacing)) = (field("unit"), field("spacing")) else {
        return Ok(None);
    };
    let scale = mm_per_unit(unit).ok_or_else(|| ImageError::Unsupported {
        path: path.to_path_buf(),
        what: "ImageJ unit",
        value: format!("'{}'", crate::text::excerpt(unit)),
        allowed: "mm, micron (µm, um), cm or m",
    })?;
    let bad = |what: &str| ImageError::Format {
        path: path.to_path_buf(),
        problem: format!("ImageJ description: {what} is not a positive number"),
    };
    let z: f64 = spacing.parse().map_err(|_| bad("spacing"))?;
    let mut pixel = |tag: Tag, name: &str| -> Result<f64, ImageError> {
        match d.find_tag(tag) {
            Ok(Some(tiff::decoder::ifd::Value::Rational(n, den))) if n > 0 && den > 0 => {
                Ok(den as f64 / n as f64)
            }
            Ok(None) => Ok(z),
            _ => Err(bad(name)),
        }
    };
    let x = pixel(Tag::XResolution, "XResolution")?;
    let y = pixel(Tag::YResolution, "YResolution")?;
    // The slice spacing, as decimal text, is the exact value when all agree.
    let h = cubic(path, [x * scale, y * scale, z * scale])?;
    Ok(Some(if (z * scale - h).abs() <= super::SPACING_RTOL * h {
        z * scale
    } else {
        h
    }))
}

/// Decodes the current page as f32 grey values.
fn page_samples(
    d: &mut Decoder<BufReader<File>>,
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<(), ImageError> {
    match d.read_image().map_err(|e| tiff_err(path, e))? {
        DecodingResult::U8(v) => out.extend(v.iter().map(|&g| g as f32)),
        DecodingResult::U16(v) => out.extend(v.iter().map(|&g| g as f32)),
        DecodingResult::I16(v) => out.extend(v.iter().map(|&g| g as f32)),
        DecodingResult::F32(v) => out.extend(v.iter().copied()),
        _ => {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what: "TIFF sample type",
                value: "(decoded as another type)".into(),
                allowed: "8- or 16-bit grey",
            })
        }
    }
    Ok(())
}

/// Checks that a slice has the first slice's size and type.
fn same_format(
    path: &Path,
    what: &str,
    first: (usize, usize, SampleType),
    this: (usize, usize, SampleType),
) -> Result<(), ImageError> {
    if first == this {
        return Ok(());
    }
    Err(ImageError::Dimensions {
        path: path.to_path_buf(),
        problem: format!(
            "{what} is {}×{} {}, the first slice {}×{} {}: every slice must have the same size and sample type",
            this.0,
            this.1,
            this.2.name(),
            first.0,
            first.1,
            first.2.name()
        ),
    })
}

/// The header of a stack of single-page slices: the first slice's size,
/// type and voxel size, and the slice count.
pub fn probe_slices(shown: &Path, files: &[PathBuf]) -> Result<ImageInfo, ImageError> {
    let mut d = open(&files[0])?;
    let (w, h, t) = page_format(&mut d, &files[0])?;
    let spacing = page_spacing(&mut d, &files[0])?;
    let _ = shown;
    Ok(ImageInfo {
        dims: [w, h, files.len()],
        spacing,
        sample_type: t,
    })
}

/// Reads a stack of single-page slices, each of the first's size and type.
pub fn read_slices(shown: &Path, files: &[PathBuf]) -> Result<GreyImage, ImageError> {
    let info = probe_slices(shown, files)?;
    let [w, h, _] = info.dims;
    let first = (w, h, info.sample_type);
    let mut samples = Vec::with_capacity(info.dims.iter().product());
    for file in files {
        let mut d = open(file)?;
        same_format(file, "this slice", first, page_format(&mut d, file)?)?;
        if d.more_images() {
            return Err(ImageError::Dimensions {
                path: file.to_path_buf(),
                problem: "a slice of a stack has several pages: give a folder of single-page slices, or one multi-page file".into(),
            });
        }
        page_samples(&mut d, file, &mut samples)?;
    }
    Ok(GreyImage { info, samples })
}

/// The header of a multi-page TIFF: its first page's size, type and voxel
/// size, and the page count.
pub fn probe_file(path: &Path) -> Result<ImageInfo, ImageError> {
    let mut d = open(path)?;
    let (w, h, t) = page_format(&mut d, path)?;
    let spacing = page_spacing(&mut d, path)?;
    let mut pages = 1;
    while d.more_images() {
        d.next_image().map_err(|e| tiff_err(path, e))?;
        pages += 1;
    }
    Ok(ImageInfo {
        dims: [w, h, pages],
        spacing,
        sample_type: t,
    })
}

/// Reads a multi-page TIFF, each page of the first's size and type.
pub fn read_file(path: &Path) -> Result<GreyImage, ImageError> {
    let mut d = open(path)?;
    let first = page_format(&mut d, path)?;
    let spacing = page_spacing(&mut d, path)?;
    let mut samples = Vec::new();
    let mut pages = 0;
    loop {
        same_format(
            path,
            &format!("page {}", pages + 1),
            first,
            page_format(&mut d, path)?,
        )?;
        page_samples(&mut d, path, &mut samples)?;
        pages += 1;
        if !d.more_images() {
            break;
        }
        d.next_image().map_err(|e| tiff_err(path, e))?;
    }
    Ok(GreyImage {
        info: ImageInfo {
            dims: [first.0, first.1, pages],
            spacing,
            sample_type: first.2,
        },
        samples,
    })
}

/// Writes a uint8 image as a multi-page TIFF, one page per z slice, with
/// ImageJ's description of the voxel size (mm).
pub fn write_u8(path: &Path, dims: [usize; 3], h: f64, grey: &[u8]) -> Result<(), ImageError> {
    let werr = |e: tiff::TiffError| ImageError::Write {
        path: path.to_path_buf(),
        error: match e {
            tiff::TiffError::IoError(e) => e,
            e => std::io::Error::other(e.to_string()),
        },
    };
    let file = File::create(path).map_err(|error| ImageError::Write {
        path: path.to_path_buf(),
        error,
    })?;
    let mut enc = tiff::encoder::TiffEncoder::new(std::io::BufWriter::new(file)).map_err(werr)?;
    let [nx, ny, nz] = dims;
    let description =
        format!("ImageJ=1.11a\nimages={nz}\nslices={nz}\nunit=mm\nspacing={h}\nloop=false\n");
    // 1/h pixels per mm as a rational with a 10⁶ denominator (read back
    // within 1e-6; the spacing text above is exact).
    let per_mm = tiff::encoder::Rational {
        n: (1e6 / h).round().clamp(1.0, u32::MAX as f64) as u32,
        d: 1_000_000,
    };
    for slice in grey.chunks(nx * ny).take(nz) {
        let mut img = enc
            .new_image::<tiff::encoder::colortype::Gray8>(nx as u32, ny as u32)
            .map_err(werr)?;
        img.encoder()
            .write_tag(Tag::ImageDescription, description.as_str())
            .map_err(werr)?;
        for tag in [Tag::XResolution, Tag::YResolution] {
            img.encoder().write_tag(tag, per_mm.clone()).map_err(werr)?;
        }
        img.write_data(slice).map_err(werr)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_with_numbers_by_value() {
        let mut v: Vec<PathBuf> = ["z10.tif", "z2.tif", "z1.tif", "a.tif"]
            .iter()
            .map(PathBuf::from)
            .collect();
        sort_by_name(&mut v);
        let names: Vec<_> = v.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(names, ["a.tif", "z1.tif", "z2.tif", "z10.tif"]);
    }

    #[test]
    fn glob_patterns_match() {
        assert!(matches("z*.tif", "z001.tif"));
        assert!(matches("z??.tif", "z01.tif"));
        assert!(!matches("z??.tif", "z001.tif"));
        assert!(!matches("z*.tif", "y001.tif"));
        assert!(matches("*", ""));
        // Many stars against a long name that does not match: linear, not
        // exponential (the old recursive matcher did not finish here).
        let pattern = "*a".repeat(30) + "b";
        let name = "a".repeat(200);
        assert!(!matches(&pattern, &name));
        assert!(matches(&pattern, &(name + "b")));
    }
}
