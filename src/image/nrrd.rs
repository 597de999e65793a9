//! NRRD files (teem's "nearly raw raster data", as 3D Slicer, ITK and
//! pynrrd write them): a hand-written reader of the header and its data,
//! and a writer of uint8 images. (No maintained NRRD crate exists; the
//! format's header is a few lines of `field: value` text.)
//!
//! Read: magic `NRRD000n`; `type` uint8 / uint16 / int16 / float (and
//! their C spellings); `dimension: 3`; `sizes`; `encoding` raw or gzip;
//! `endian` (needed for multi-byte samples); the voxel size from
//! `spacings` or the lengths of `space directions` (their orientation is
//! not used: sample `(i, j, k)` is voxel `(i, j, k)`), in the per-axis
//! `units` or the `space units` (mm when absent; both given must name one
//! length); `line skip` and `byte skip`; the data attached after the blank
//! line ending the header, or in one detached `data file` next to a
//! `.nhdr` header. Other fields and `key:=value` pairs are ignored.

use super::{cubic, mm_per_unit, GreyImage, ImageError, ImageInfo, SampleType};
use crate::text::excerpt;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Data encodings read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Raw,
    Gzip,
}

/// A parsed NRRD header.
#[derive(Debug, Clone)]
pub struct Header {
    pub info: ImageInfo,
    encoding: Encoding,
    big_endian: bool,
    line_skip: usize,
    /// −1: the data are the file's last bytes (raw only).
    byte_skip: i64,
    /// The file holding the data, and the offset of its first byte
    /// (after the header, when attached).
    data: PathBuf,
    offset: u64,
}

impl Header {
    /// The file holding the samples: the header's own, or its detached
    /// `data file`.
    pub fn data_file(&self) -> &Path {
        &self.data
    }
}

fn format_err(path: &Path, problem: impl Into<String>) -> ImageError {
    ImageError::Format {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

fn read_err(path: &Path, error: std::io::Error) -> ImageError {
    ImageError::Read {
        path: path.to_path_buf(),
        error,
    }
}

/// Parses the header of the NRRD file at `path`.
pub fn read_header(path: &Path) -> Result<Header, ImageError> {
    let file = std::fs::File::open(path).map_err(|e| read_err(path, e))?;
    let mut r = BufReader::new(file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut next_line = |r: &mut BufReader<std::fs::File>| -> Result<Option<String>, ImageError> {
        line.clear();
        let n = r
            .by_ref()
            .take(64 * 1024)
            .read_until(b'\n', &mut line)
            .map_err(|e| read_err(path, e))?;
        offset += n as u64;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(
            String::from_utf8_lossy(&line)
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ))
    };
    let magic = next_line(&mut r)?.unwrap_or_default();
    if !magic.starts_with("NRRD000") {
        return Err(format_err(
            path,
            format!(
                "not an NRRD file: the first line is '{}', not NRRD0001…NRRD0005",
                excerpt(&magic)
            ),
        ));
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut ended = false;
    while let Some(l) = next_line(&mut r)? {
        if l.is_empty() {
            ended = true;
            break;
        }
        if l.starts_with('#') || l.contains(":=") {
            continue;
        }
        let Some((k, v)) = l.split_once(": ") else {
            return Err(format_err(
                path,
                format!("header line '{}' is not 'field: value'", excerpt(&l)),
            ));
        };
        fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let field = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    let required = |k: &'static str| {
        field(k).ok_or_else(|| format_err(path, format!("the header has no '{k}' field")))
    };
    let sample_type = match required("type")? {
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => SampleType::U8,
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => {
            SampleType::U16
        }
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => {
            SampleType::I16
        }
        "float" => SampleType::F32,
        other => {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what: "sample type",
                value: format!("'{}'", excerpt(other)),
                allowed: "uint8, uint16, int16 or float",
            })
        }
    };
    let dimension = required("dimension")?;
    if dimension != "3" {
        return Err(ImageError::Dimensions {
            path: path.to_path_buf(),
            problem: format!(
                "dimension: {}; allowed: 3 (a 3D image of one grey channel)",
                excerpt(dimension)
            ),
        });
    }
    let sizes: Vec<usize> = required("sizes")?
        .split_whitespace()
        .map(|s| {
            s.parse().map_err(|_| ImageError::Dimensions {
                path: path.to_path_buf(),
                problem: format!("sizes entry '{}' is not a whole number", excerpt(s)),
            })
        })
        .collect::<Result<_, _>>()?;
    let dims: [usize; 3] = match sizes[..] {
        [a, b, c] if a > 0 && b > 0 && c > 0 => [a, b, c],
        _ => {
            return Err(ImageError::Dimensions {
                path: path.to_path_buf(),
                problem: format!("sizes: {sizes:?}; allowed: three positive counts (dimension 3)"),
            })
        }
    };
    let encoding = match required("encoding")? {
        "raw" => Encoding::Raw,
        "gzip" | "gz" => Encoding::Gzip,
        other => {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what: "encoding",
                value: format!("'{}'", excerpt(other)),
                allowed: "raw or gzip",
            })
        }
    };
    let big_endian = match (field("endian"), sample_type.bytes()) {
        (_, 1) | (Some("little"), _) => false,
        (Some("big"), _) => true,
        (e, _) => {
            return Err(format_err(
                path,
                format!(
                    "endian: {}; allowed: little or big (required for {}-byte samples)",
                    e.map_or("(missing)".to_string(), |e| format!("'{}'", excerpt(e))),
                    sample_type.bytes()
                ),
            ))
        }
    };
    let spacing = spacing(
        path,
        field("spacings"),
        field("space directions"),
        [field("units"), field("space units")],
    )?;
    let int = |k: &str, v: Option<&str>| -> Result<i64, ImageError> {
        v.map_or(Ok(0), |v| {
            v.parse().map_err(|_| {
                format_err(path, format!("{k}: '{}' is not a whole number", excerpt(v)))
            })
        })
    };
    let line_skip = int("line skip", field("line skip"))?;
    let byte_skip = int("byte skip", field("byte skip"))?;
    if line_skip < 0 || byte_skip < -1 || (byte_skip == -1 && encoding != Encoding::Raw) {
        return Err(format_err(path, format!("line skip {line_skip}, byte skip {byte_skip}: allowed: line skip ≥ 0, byte skip ≥ 0 (−1 with raw encoding)")));
    }
    let (data, offset) = match field("data file").or(field("datafile")) {
        Some(f) if f.starts_with("LIST") || f.split_whitespace().count() > 1 => {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what: "data file",
                value: format!("'{}'", excerpt(f)),
                allowed: "one detached data file",
            })
        }
        Some(f) => (path.parent().unwrap_or(Path::new(".")).join(f), 0),
        None if ended => (path.to_path_buf(), offset),
        None => {
            return Err(format_err(
                path,
                "the header does not end with a blank line and names no data file",
            ))
        }
    };
    Ok(Header {
        info: ImageInfo {
            dims,
            spacing,
            sample_type,
        },
        encoding,
        big_endian,
        line_skip: line_skip as usize,
        byte_skip,
        data,
        offset,
    })
}

/// The cubic voxel size of `spacings` or `space directions` (mm), in the
/// per-axis `units` or the `space units` (`[units, space units]`; mm when
/// neither is given; both given must name the same length).
fn spacing(
    path: &Path,
    spacings: Option<&str>,
    directions: Option<&str>,
    units: [Option<&str>; 2],
) -> Result<Option<f64>, ImageError> {
    let scale_of = |what: &'static str, u: &str| {
        let names: Vec<&str> = u.split_whitespace().map(|s| s.trim_matches('"')).collect();
        let scales: Vec<Option<f64>> = names.iter().map(|n| mm_per_unit(n)).collect();
        match scales[..] {
            [Some(a), Some(b), Some(c)] if a == b && b == c => Ok(a),
            _ => Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                what,
                value: format!("'{}'", excerpt(u)),
                allowed: "one length unit for all three axes: mm, um (micron), cm or m",
            }),
        }
    };
    let per_axis = units[0].map(|u| scale_of("units", u)).transpose()?;
    let space = units[1].map(|u| scale_of("space units", u)).transpose()?;
    let scale = match (per_axis, space) {
        (Some(a), Some(b)) if a != b => {
            return Err(format_err(
                path,
                format!(
                    "units '{}' and space units '{}' name different lengths; allowed: one length unit (or only one of the two fields)",
                    excerpt(units[0].unwrap_or_default()),
                    excerpt(units[1].unwrap_or_default())
                ),
            ))
        }
        (a, b) => a.or(b).unwrap_or(1.0),
    };
    let bad = |what: &str, v: &str| {
        format_err(
            path,
            format!("{what}: '{}' is not three positive lengths", excerpt(v)),
        )
    };
    let lengths: [f64; 3] = if let Some(s) = spacings {
        let v: Vec<f64> = s
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        match v[..] {
            [a, b, c] => [a, b, c],
            _ => return Err(bad("spacings", s)),
        }
    } else if let Some(d) = directions {
        let mut out = Vec::new();
        for vector in d.split_whitespace() {
            let inner = vector.trim_start_matches('(').trim_end_matches(')');
            let c: Vec<f64> = inner
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            if c.len() != 3 {
                return Err(bad("space directions", d));
            }
            out.push(c.iter().map(|x| x * x).sum::<f64>().sqrt());
        }
        match out[..] {
            [a, b, c] => [a, b, c],
            _ => return Err(bad("space directions", d)),
        }
    } else {
        return Ok(None);
    };
    cubic(path, lengths.map(|l| l * scale)).map(Some)
}

/// Reads the NRRD file at `path`: its header and samples.
pub fn read(path: &Path) -> Result<GreyImage, ImageError> {
    let header = read_header(path)?;
    let info = header.info.clone();
    let bytes_per = info.sample_type.bytes();
    let expected = info
        .dims
        .iter()
        .try_fold(bytes_per as u64, |a, &n| a.checked_mul(n as u64))
        .ok_or_else(|| ImageError::Dimensions {
            path: path.to_path_buf(),
            problem: format!("sizes {:?}: more samples than a file can hold", info.dims),
        })?;
    let file = std::fs::File::open(&header.data).map_err(|e| read_err(&header.data, e))?;
    let total = file
        .metadata()
        .map_err(|e| read_err(&header.data, e))?
        .len();
    let mut r = BufReader::new(file);
    let skip = |r: &mut BufReader<std::fs::File>, n: u64| -> Result<u64, ImageError> {
        std::io::copy(&mut r.by_ref().take(n), &mut std::io::sink())
            .map_err(|e| read_err(&header.data, e))
    };
    skip(&mut r, header.offset)?;
    for _ in 0..header.line_skip {
        let mut l = Vec::new();
        r.read_until(b'\n', &mut l)
            .map_err(|e| read_err(&header.data, e))?;
    }
    let truncated = |found: u64| ImageError::Truncated {
        path: header.data.clone(),
        dims: info.dims,
        bytes_per_sample: bytes_per,
        expected,
        found,
    };
    // Grown as read: a truncated file does not allocate what its sizes claim.
    let mut raw = Vec::new();
    match header.encoding {
        Encoding::Raw => {
            if header.byte_skip == -1 {
                let start = total.saturating_sub(expected);
                let here = r.stream_position().map_err(|e| read_err(&header.data, e))?;
                skip(&mut r, start.saturating_sub(here))?;
            } else {
                skip(&mut r, header.byte_skip as u64)?;
            }
            r.take(expected + 1)
                .read_to_end(&mut raw)
                .map_err(|e| read_err(&header.data, e))?;
        }
        Encoding::Gzip => {
            let mut gz = flate2::bufread::MultiGzDecoder::new(r);
            if let Err(e) = gz
                .by_ref()
                .take(header.byte_skip as u64)
                .read_to_end(&mut raw)
            {
                return Err(gz_error(&header.data, e, expected, &info, bytes_per));
            }
            raw.clear();
            if let Err(e) = gz.take(expected + 1).read_to_end(&mut raw) {
                return Err(gz_error(&header.data, e, expected, &info, bytes_per));
            }
        }
    }
    let found = raw.len() as u64;
    if found < expected {
        return Err(truncated(found));
    }
    if found > expected {
        return Err(ImageError::Dimensions {
            path: header.data.clone(),
            problem: format!(
                "the data hold more than the {expected} bytes that sizes {:?} of {} need: the sizes or the type are wrong",
                info.dims,
                info.sample_type.name()
            ),
        });
    }
    let samples = decode(&raw, info.sample_type, header.big_endian);
    Ok(GreyImage { info, samples })
}

/// A gzip stream that ends early reads as truncated data; anything else
/// is a corrupt stream.
fn gz_error(
    path: &Path,
    e: std::io::Error,
    expected: u64,
    info: &ImageInfo,
    bytes_per: usize,
) -> ImageError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return ImageError::Truncated {
            path: path.to_path_buf(),
            dims: info.dims,
            bytes_per_sample: bytes_per,
            expected,
            found: 0,
        };
    }
    format_err(path, format!("corrupt gzip data: {e}"))
}

fn decode(raw: &[u8], t: SampleType, big: bool) -> Vec<f32> {
    match t {
        SampleType::U8 => raw.iter().map(|&b| b as f32).collect(),
        SampleType::U16 => raw
            .chunks_exact(2)
            .map(|c| {
                let b = [c[0], c[1]];
                (if big {
                    u16::from_be_bytes(b)
                } else {
                    u16::from_le_bytes(b)
                }) as f32
            })
            .collect(),
        SampleType::I16 => raw
            .chunks_exact(2)
            .map(|c| {
                let b = [c[0], c[1]];
                (if big {
                    i16::from_be_bytes(b)
                } else {
                    i16::from_le_bytes(b)
                }) as f32
            })
            .collect(),
        SampleType::F32 => raw
            .chunks_exact(4)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3]];
                if big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }
            })
            .collect(),
    }
}

/// Writes a uint8 image, gzip-encoded, with its voxel size `h` mm as
/// `space directions` and `space units`; `what` goes into a comment.
pub fn write_u8(
    path: &Path,
    dims: [usize; 3],
    h: f64,
    grey: &[u8],
    what: &str,
) -> Result<(), ImageError> {
    let werr = |error| ImageError::Write {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::create(path).map_err(werr)?;
    let mut w = std::io::BufWriter::new(file);
    let [nx, ny, nz] = dims;
    let header = format!(
        "NRRD0004\n# {what}\ntype: uint8\ndimension: 3\nspace dimension: 3\nsizes: {nx} {ny} {nz}\n\
         space directions: ({h},0,0) (0,{h},0) (0,0,{h})\nspace units: \"mm\" \"mm\" \"mm\"\n\
         space origin: (0,0,0)\nkinds: domain domain domain\nencoding: gzip\n\n"
    );
    w.write_all(header.as_bytes()).map_err(werr)?;
    let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
    gz.write_all(grey).map_err(werr)?;
    gz.finish().map_err(werr)?.flush().map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_decode_by_type_and_endian() {
        assert_eq!(decode(&[0xff, 0xfe], SampleType::I16, true), [-2.0]);
        assert_eq!(decode(&[0xfe, 0xff], SampleType::I16, false), [-2.0]);
        assert_eq!(decode(&[0x01, 0x02], SampleType::U16, true), [258.0]);
        assert_eq!(decode(&1.5f32.to_be_bytes(), SampleType::F32, true), [1.5]);
    }

    #[test]
    fn spacing_units_and_directions() {
        let p = Path::new("x.nrrd");
        let space = |u| [None, Some(u)];
        assert_eq!(
            spacing(p, Some("50 50 50"), None, space("um um um")).unwrap(),
            Some(0.05)
        );
        // The per-axis `units` (with spacings, as pynrrd writes them).
        assert_eq!(
            spacing(p, Some("50 50 50"), None, [Some("um um um"), None]).unwrap(),
            Some(0.05)
        );
        let d = "(0,0.2,0) (-0.2,0,0) (0,0,0.2)";
        assert_eq!(
            spacing(p, None, Some(d), space("\"cm\" \"cm\" \"cm\"")).unwrap(),
            Some(2.0)
        );
        assert_eq!(spacing(p, None, None, [None, None]).unwrap(), None);
        assert!(matches!(
            spacing(p, Some("1 1 1"), None, space("mm mm um")),
            Err(ImageError::Unsupported {
                what: "space units",
                ..
            })
        ));
        assert!(matches!(
            spacing(
                p,
                Some("1 1 1"),
                None,
                [Some("furlong furlong furlong"), None]
            ),
            Err(ImageError::Unsupported { what: "units", .. })
        ));
        let e = spacing(p, Some("1 1 1"), None, [Some("um um um"), Some("mm mm mm")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("units 'um um um' and space units 'mm mm mm'"),
            "{e}"
        );
        // The same length twice is one unit.
        assert_eq!(
            spacing(
                p,
                Some("1 1 1"),
                None,
                [Some("um um um"), Some("micron micron micron")]
            )
            .unwrap(),
            Some(1e-3)
        );
    }

    #[test]
    fn line_and_byte_skips() {
        let dir = tempfile::tempdir().unwrap();
        // Data at the end of the file (byte skip −1) after a junk line.
        let p = dir.path().join("skip.nrrd");
        let mut b = b"NRRD0004\ntype: int16\ndimension: 3\nsizes: 2 1 1\nendian: little\nencoding: raw\nline skip: 1\nbyte skip: -1\n\njunk\nmore".to_vec();
        b.extend([0x05, 0x00, 0xff, 0xff]);
        std::fs::write(&p, b).unwrap();
        let img = read(&p).unwrap();
        assert_eq!(img.samples, [5.0, -1.0]);
        assert_eq!(img.info.spacing, None);
        // gzip with a byte skip of 3 inside the decompressed stream.
        let p = dir.path().join("gz.nrrd");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[9, 9, 9, 1, 2]).unwrap();
        let mut b = b"NRRD0004\ntype: uint8\ndimension: 3\nsizes: 1 2 1\nspacings: 1 1 1\nencoding: gzip\nbyte skip: 3\n\n".to_vec();
        b.extend(gz.finish().unwrap());
        std::fs::write(&p, b).unwrap();
        assert_eq!(read(&p).unwrap().samples, [1.0, 2.0]);
    }

    #[test]
    fn non_finite_samples_are_refused_with_their_count_and_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nan.nrrd");
        let mut b = b"NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 1\nendian: little\nencoding: raw\nspacings: 1 1 1\n\n".to_vec();
        for g in [1.0f32, f32::NAN, 3.0, f32::INFINITY] {
            b.extend(g.to_le_bytes());
        }
        std::fs::write(&p, b).unwrap();
        // The NRRD reader decodes them; the image reader refuses them.
        assert!(read(&p).unwrap().samples[1].is_nan());
        let e = crate::image::read(&p).unwrap_err();
        assert!(e.is_bad_input());
        let m = e.to_string();
        assert!(
            m.contains("nan.nrrd")
                && m.contains("2 samples are not finite")
                && m.contains("[1, 0, 0]"),
            "{m}"
        );
    }
}
